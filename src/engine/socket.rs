//! Engine API sockets: where to look for them, and whether one answers.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The path of a `unix://` URL, or None for other schemes (tcp://, ssh://).
pub fn unix_path(url: &str) -> Option<&str> {
    url.strip_prefix("unix://")
}

/// Send `GET /_ping` (Docker's and Podman's API both answer it) and wait up to `limit`.
pub fn ping(path: &Path, limit: Duration) -> bool {
    let Ok(mut stream) = UnixStream::connect(path) else {
        return false;
    };
    if stream.set_read_timeout(Some(limit)).is_err()
        || stream.set_write_timeout(Some(limit)).is_err()
    {
        return false;
    }
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: dindbox\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(n) => answered_ok(&buf[..n]),
        Err(_) => false,
    }
}

fn answered_ok(response: &[u8]) -> bool {
    let text = String::from_utf8_lossy(response);
    let mut status = text.split_whitespace().skip(1);
    text.starts_with("HTTP/") && status.next() == Some("200")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn reads_unix_urls_only() {
        assert_eq!(
            unix_path("unix:///run/podman/podman.sock"),
            Some("/run/podman/podman.sock")
        );
        assert_eq!(unix_path("tcp://127.0.0.1:2375"), None);
    }

    #[test]
    fn ping_needs_an_http_200() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            for reply in [
                &b"HTTP/1.1 200 OK\r\n\r\nOK"[..],
                &b"HTTP/1.1 500 Internal\r\n\r\n"[..],
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut req = [0u8; 128];
                let _ = s.read(&mut req).unwrap();
                s.write_all(reply).unwrap();
            }
        });
        assert!(ping(&path, Duration::from_secs(2)));
        assert!(!ping(&path, Duration::from_secs(2)));
        server.join().unwrap();
        assert!(!ping(
            &dir.path().join("missing.sock"),
            Duration::from_secs(1)
        ));
    }
}
