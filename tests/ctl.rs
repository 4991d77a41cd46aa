//! The control socket client against a protocol peer speaking mox's ctl wire format.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use mailvault::mox::{MoxError, backup_via_ctl};
use mailvault::{Collect, Event};

/// A one-connection ctl server; `script` gets the accepted connection after the greeting.
fn peer(
    dir: &Path,
    greeting: &'static str,
    script: impl FnOnce(&mut BufReader<UnixStream>, &mut UnixStream) + Send + 'static,
) -> (PathBuf, JoinHandle<()>) {
    let sock = dir.join("ctl");
    let listener = UnixListener::bind(&sock).unwrap();
    let h = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(greeting.as_bytes()).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        script(&mut reader, &mut conn);
    });
    (sock, h)
}

fn read_line(r: &mut BufReader<UnixStream>) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    assert!(s.ends_with('\n'), "line not terminated: {s:?}");
    s.pop();
    s
}

/// Sends one stream chunk and expects the client's "ok".
fn chunk(r: &mut BufReader<UnixStream>, w: &mut UnixStream, data: &str) {
    write!(w, "{}\n{data}", data.len()).unwrap();
    assert_eq!(read_line(r), "ok");
}

fn expect_backup_command(r: &mut BufReader<UnixStream>, dest: &str, verbose: &str) {
    assert_eq!(read_line(r), "backup");
    assert_eq!(read_line(r), dest);
    assert_eq!(read_line(r), verbose);
}

fn logs(c: &Collect) -> Vec<String> {
    c.events()
        .into_iter()
        .map(|e| match e {
            Event::Log { message } => message,
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

#[test]
fn backup_streams_log_lines_and_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("staging");
    let dest_s = dest.to_str().unwrap().to_string();
    let (sock, h) = peer(dir.path(), "ctlv0\n", move |r, w| {
        expect_backup_command(r, &dest_s, "verbose");
        chunk(r, w, "backed up database file; path=auth.db\nbacked up ");
        chunk(r, w, "file; path=receivedid.key\n");
        chunk(
            r,
            w,
            "warning: backing up unrecognized file; path=moved/x\n",
        );
        w.write_all(b"0\nok\n").unwrap();
    });
    let progress = Collect::default();
    backup_via_ctl(&sock, &dest, true, &progress).unwrap();
    h.join().unwrap();
    assert_eq!(
        logs(&progress),
        [
            "backed up database file; path=auth.db",
            "backed up file; path=receivedid.key",
            "warning: backing up unrecognized file; path=moved/x",
        ]
    );
}

#[test]
fn backup_failure_is_reported_in_the_servers_words() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("staging");
    let dest_s = dest.to_str().unwrap().to_string();
    let (sock, h) = peer(dir.path(), "ctlv0\n", move |r, w| {
        expect_backup_command(r, &dest_s, "");
        chunk(
            r,
            w,
            "error: linking/copying message: no such file or directory\n",
        );
        w.write_all(b"0\nerrors were encountered during backup\n")
            .unwrap();
    });
    let progress = Collect::default();
    let err = backup_via_ctl(&sock, &dest, false, &progress).unwrap_err();
    h.join().unwrap();
    match &err {
        MoxError::Ctl { path, message } => {
            assert_eq!(path, &sock);
            assert_eq!(message, "errors were encountered during backup");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        logs(&progress),
        ["error: linking/copying message: no such file or directory"]
    );
}

#[test]
fn error_line_in_place_of_a_chunk_length() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, h) = peer(dir.path(), "ctlv0\n", |r, w| {
        let _ = (read_line(r), read_line(r), read_line(r));
        w.write_all(b"reading count: permission denied\n").unwrap();
    });
    let err = backup_via_ctl(&sock, Path::new("/x"), false, &Collect::default()).unwrap_err();
    h.join().unwrap();
    assert!(
        err.to_string()
            .ends_with("control socket: reading count: permission denied"),
        "{err}"
    );
}

#[test]
fn protocol_mismatch_and_early_close() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, h) = peer(dir.path(), "ctlv9\n", |_, _| {});
    let err = backup_via_ctl(&sock, Path::new("/x"), false, &Collect::default()).unwrap_err();
    h.join().unwrap();
    assert!(err.to_string().contains("protocol mismatch"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let (sock, h) = peer(dir.path(), "ctlv0\n", |r, w| {
        let _ = (read_line(r), read_line(r), read_line(r));
        // A chunk announced but cut short.
        w.write_all(b"100\nshort").unwrap();
    });
    let err = backup_via_ctl(&sock, Path::new("/x"), false, &Collect::default()).unwrap_err();
    h.join().unwrap();
    assert!(matches!(err, MoxError::Ctl { .. }), "{err}");
}

#[test]
fn no_server_running() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ctl");
    let err = backup_via_ctl(&sock, Path::new("/x"), false, &Collect::default()).unwrap_err();
    let s = err.to_string();
    assert!(
        s.contains("connecting") && s.contains("is mox running"),
        "{s}"
    );
    assert!(s.contains(sock.to_str().unwrap()), "{s}");
}

#[test]
fn stream_data_is_read_exactly() {
    // A chunk may contain bytes that look like protocol (digits, "ok", newlines).
    let dir = tempfile::tempdir().unwrap();
    let (sock, h) = peer(dir.path(), "ctlv0\n", |r, w| {
        let _ = (read_line(r), read_line(r), read_line(r));
        chunk(r, w, "0\nok\n12\n");
        let mut rest = Vec::new();
        w.write_all(b"0\nok\n").unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
        r.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "client sent more: {rest:?}");
    });
    let progress = Collect::default();
    backup_via_ctl(&sock, Path::new("/x"), false, &progress).unwrap();
    h.join().unwrap();
    assert_eq!(logs(&progress), ["0", "ok", "12"]);
}

#[test]
fn relative_destination_is_sent_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let want = std::env::current_dir().unwrap().join("staging/x");
    let want_s = want.to_str().unwrap().to_string();
    let (sock, h) = peer(dir.path(), "ctlv0\n", move |r, w| {
        expect_backup_command(r, &want_s, "");
        w.write_all(b"0\nok\n").unwrap();
    });
    backup_via_ctl(&sock, Path::new("staging/x"), false, &Collect::default()).unwrap();
    h.join().unwrap();
}
