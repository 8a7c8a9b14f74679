//! What the server's benchmarks share: the real `gridbook-server` binary serving a data directory on
//! a free loopback port, and the figures Linux keeps of a process.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `gridbook-server serve` on `data`, logging only warnings; returns the process and the
/// address it listens on.
pub fn serve(data: &Path) -> (Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_gridbook-server"))
        .args(["serve", "--data", data.to_str().expect("utf-8"), "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut line).expect("listening line");
    let addr = line.trim().trim_start_matches("listening on ").to_string();
    (server, addr)
}

/// A field of `/proc/{pid}/status` in kB (`VmRSS:`, `VmHWM:`), or 0 if it cannot be read.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}
