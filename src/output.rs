//! What commands print to stdout, in one place. A reader that went away
//! (`dindbox plan | head -1`) is not an error: what is left to print is
//! dropped, and the command ends as it would have, quietly.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// The version of the shape of every `--json` output. Each one is an object
/// whose first key, `schema`, is this number; it goes up when a key is
/// renamed, removed or changes its meaning (a new key leaves it as it is).
pub const JSON_SCHEMA: u32 = 1;

/// A `--json` output: the schema version, then the keys of `body`.
#[derive(Serialize)]
struct Versioned<'a, T: ?Sized> {
    schema: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// `body`, which serialises as an object, as pretty JSON with `schema` first.
pub fn json<T: Serialize + ?Sized>(body: &T) -> Result<String> {
    serde_json::to_string_pretty(&Versioned {
        schema: JSON_SCHEMA,
        body,
    })
    .map_err(|e| Error::failure("could not write the output as JSON").cause(e.to_string()))
}

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
    fn json_puts_the_schema_first_and_keeps_the_body_keys_in_order() {
        #[derive(Serialize)]
        struct Body {
            zebra: u8,
            apple: Vec<u8>,
        }
        let text = json(&Body {
            zebra: 1,
            apple: vec![2],
        })
        .unwrap();
        assert_eq!(
            text,
            "{\n  \"schema\": 1,\n  \"zebra\": 1,\n  \"apple\": [\n    2\n  ]\n}"
        );
    }

    #[test]
    fn json_refuses_a_body_that_is_not_an_object() {
        let err = json(&[1, 2]).unwrap_err();
        assert!(
            err.to_string()
                .contains("could not write the output as JSON")
        );
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
