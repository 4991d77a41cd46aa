//! A client for mox's control socket (`<data>/ctl`), used to have a running server write its own
//! consistent backup.
//!
//! Wire format: the server greets with `ctlv0\n`; commands and arguments are `\n`-terminated
//! lines. A data stream is a sequence of `<decimal length>\n<bytes>` chunks, each acknowledged
//! by the receiver with `ok\n`, ended by `0\n`; a line that is not a number in place of a length
//! is the server's error message. `backup` takes the destination directory and `verbose` (or an
//! empty line), streams the server's log, then ends with `ok` or an error line.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::MoxError;
use crate::progress::{Event, Progress};

const GREETING: &str = "ctlv0";
/// How long to wait for the greeting; the backup itself may take as long as it takes.
const GREETING_TIMEOUT: Duration = Duration::from_secs(10);
/// A longer chunk than this is not a log stream.
const MAX_CHUNK: usize = 64 << 20;

/// Connects to `ctl_socket`, sends `backup`, streams log lines to `progress` as [`Event::Log`],
/// returns Ok when the server says ok, [`MoxError::Ctl`] with the server's own words otherwise.
pub fn backup_via_ctl(
    ctl_socket: &Path,
    dest_dir: &Path,
    verbose: bool,
    progress: &dyn Progress,
) -> Result<(), MoxError> {
    let ctl_err = |message: String| MoxError::Ctl {
        path: ctl_socket.to_path_buf(),
        message,
    };
    // The server resolves a relative path against its own working directory.
    let dest_dir = std::path::absolute(dest_dir)
        .map_err(|e| ctl_err(format!("destination {}: {e}", dest_dir.display())))?;
    let dest = dest_dir.to_str().ok_or_else(|| {
        ctl_err(format!(
            "destination {} is not valid UTF-8",
            dest_dir.display()
        ))
    })?;
    if dest.contains('\n') {
        return Err(ctl_err("destination path contains a newline".into()));
    }
    let stream = UnixStream::connect(ctl_socket).map_err(|e| {
        ctl_err(format!(
            "connecting: {e} (is mox running? the socket exists only while it runs)"
        ))
    })?;
    let mut conn = Conn {
        reader: BufReader::new(stream.try_clone().map_err(|e| ctl_err(e.to_string()))?),
        writer: stream,
        err: &ctl_err,
    };
    conn.writer
        .set_read_timeout(Some(GREETING_TIMEOUT))
        .map_err(|e| ctl_err(e.to_string()))?;
    let greeting = conn.line("greeting")?;
    if greeting != GREETING {
        return Err(ctl_err(format!(
            "protocol mismatch: server greeted with {greeting:?}, expected {GREETING:?}"
        )));
    }
    conn.writer
        .set_read_timeout(None)
        .map_err(|e| ctl_err(e.to_string()))?;
    conn.write(&format!(
        "backup\n{dest}\n{}\n",
        if verbose { "verbose" } else { "" }
    ))?;

    // The log stream.
    let mut pending = Vec::new();
    loop {
        let line = conn.line("stream chunk length")?;
        let n: usize = match line.parse() {
            Ok(n) => n,
            // Not a length: the server's error.
            Err(_) => return Err(ctl_err(line)),
        };
        if n == 0 {
            break;
        }
        if n > MAX_CHUNK {
            return Err(ctl_err(format!("stream chunk of {n} bytes is too large")));
        }
        let mut chunk = vec![0u8; n];
        conn.reader
            .read_exact(&mut chunk)
            .map_err(|e| ctl_err(format!("reading stream chunk: {e}")))?;
        conn.write("ok\n")?;
        pending.extend_from_slice(&chunk);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let rest = pending.split_off(pos + 1);
            let line = String::from_utf8_lossy(&pending[..pos]).into_owned();
            pending = rest;
            progress.event(Event::Log { message: line });
        }
    }
    if !pending.is_empty() {
        let message = String::from_utf8_lossy(&pending).into_owned();
        progress.event(Event::Log { message });
    }
    let result = conn.line("result")?;
    if result == "ok" {
        Ok(())
    } else {
        Err(ctl_err(result))
    }
}

struct Conn<'e, E: Fn(String) -> MoxError> {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    err: &'e E,
}

impl<E: Fn(String) -> MoxError> Conn<'_, E> {
    fn line(&mut self, what: &str) -> Result<String, MoxError> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Err((self.err)(format!(
                "connection closed by the server while reading the {what}"
            ))),
            Ok(_) => {
                if line.ends_with('\n') {
                    line.pop();
                    Ok(line)
                } else {
                    Err((self.err)(format!(
                        "connection closed by the server in the middle of the {what}"
                    )))
                }
            }
            Err(e) => Err((self.err)(format!("reading the {what}: {e}"))),
        }
    }

    fn write(&mut self, s: &str) -> Result<(), MoxError> {
        self.writer
            .write_all(s.as_bytes())
            .map_err(|e| (self.err)(format!("writing: {e}")))
    }
}
