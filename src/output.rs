//! What commands print to stdout, in one place. A reader that went away
//! (`dindbox plan | head -1`) is not an error: what is left to print is
//! dropped, and the command ends as it would have, quietly.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Set once a write found the reader gone; later writes are dropped.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `text` to stdout as it is.
pub fn print(text: &str) -> Result<()> {
    write_to(&mut std::io::stdout().lock(), text, &CLOSED)
}

/// Write `text` and a line break to stdout.
pub fn line(text: &str) -> Result<()> {
    print(&format!("{text}\n"))
}

fn write_to(out: &mut impl Write, text: &str, closed: &AtomicBool) -> Result<()> {
    if closed.load(Ordering::Relaxed) {
        return Ok(());
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            closed.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::failure("could not write to stdout").cause(e.to_string())),
        Ok(()) => Ok(()),
    }
}

/// For code that still prints with `println!`: its panic on a closed stdout
/// ends the program with status 0 and no message, as this module's writers do.
pub fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if message.is_some_and(is_closed_stdout) {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// std's panic message when `print!`/`println!` meets a reader that went away.
fn is_closed_stdout(message: &str) -> bool {
    message.starts_with("failed printing to stdout")
        && message.ends_with(&format!("(os error {})", libc::EPIPE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader is gone after `room` bytes.
    struct Pipe {
        got: Vec<u8>,
        room: usize,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.got.len() >= self.room {
                return Err(ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room - self.got.len());
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_ends_the_output_without_an_error() {
        let mut pipe = Pipe {
            got: Vec::new(),
            room: 4,
        };
        let closed = AtomicBool::new(false);
        assert!(write_to(&mut pipe, "line 1\nline 2\n", &closed).is_ok());
        assert!(closed.load(Ordering::Relaxed));
        pipe.room = 100;
        assert!(write_to(&mut pipe, "more\n", &closed).is_ok());
        assert_eq!(
            pipe.got, b"line",
            "nothing is written after the reader went away"
        );
    }

    #[test]
    fn the_println_panic_on_a_closed_pipe_is_recognised() {
        assert!(is_closed_stdout(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_closed_stdout(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_closed_stdout("index out of bounds"));
    }
}
