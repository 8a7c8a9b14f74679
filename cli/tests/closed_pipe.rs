//! `gridbook --json event list | head -30`: a reader that stops early ends the command quietly —
//! exit 0, nothing on stderr, no panic — for JSON and for tables alike.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

fn gridbook(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gridbook"));
    c.arg("--store").arg(store).args(["--now", "2026-11-20T04:00:00Z", "--as", "刘敏", "--device", "village-pc"]);
    c
}

/// A grid with enough households that a listing is several times what a pipe holds, so the
/// command is still writing when the reader goes away.
fn big_store(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("store");
    let roster = dir.join("roster.csv");
    let mut csv = String::from("地址,姓名,性别,出生日期\n");
    for n in 0..2000 {
        csv.push_str(&format!("幸福村{}组{}号,住户{n},男,1960-01-01\n", n / 100 + 1, n % 100 + 1));
    }
    std::fs::write(&roster, csv).unwrap();
    let init = gridbook(&store).args(["init", "--grid", "第一网格", "--village", "幸福村"]).output().unwrap();
    assert!(init.status.success());
    let import = gridbook(&store).args(["roster", "import", roster.to_str().unwrap(), "--grid", "第一网格"]).output();
    assert!(import.unwrap().status.success());
    store
}

fn read_a_little_then_close(store: &Path, args: &[&str]) {
    let whole = gridbook(store).args(args).output().unwrap();
    assert!(whole.status.success());
    assert!(whole.stdout.len() > 128 * 1024, "{args:?} must outgrow the pipe for this test to mean anything");

    let mut child =
        gridbook(store).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 200];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} exited {:?}: {stderr}", out.status.code());
    assert!(stderr.is_empty(), "{args:?} said something on stderr: {stderr}");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let store = big_store(dir.path());
    read_a_little_then_close(&store, &["--json", "household", "list", "--grid", "第一网格"]);
    read_a_little_then_close(&store, &["household", "list", "--grid", "第一网格"]);
}
