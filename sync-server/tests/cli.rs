//! The `gridbook-server` binary as the district engineer uses it: register, list and revoke devices,
//! serve on a port it reports, and stop cleanly on SIGTERM.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gridbook-server");

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn devices_are_added_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let grid = "0190a000-0000-7000-8000-000000000001";
    let (ok, out, err) =
        run(&["device", "add", "--data", data, "--name", "phone-1", "--role", "grid-member", "--grid", grid]);
    assert!(ok, "{err}");
    let token = out.lines().find_map(|l| l.strip_prefix("token: ")).unwrap();
    assert!(token.starts_with("gbt_default_"));
    assert!(out.contains("cannot be shown again"));
    let (ok, _, err) = run(&["device", "add", "--data", data, "--name", "dept", "--role", "department"]);
    assert!(!ok && err.contains("--department"), "a department device needs its department: {err}");

    let (ok, out, _) = run(&["device", "list", "--data", data, "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["name"], "phone-1");
    assert_eq!(list[0]["role"], "grid-member");
    assert!(!out.contains(&token[12..]), "the token is never listed");

    assert!(run(&["device", "revoke", "--data", data, "phone-1"]).0);
    let (_, table, _) = run(&["device", "list", "--data", data]);
    assert!(table.contains("revoked"), "{table}");
    assert!(!run(&["device", "revoke", "--data", data, "nobody"]).0);
    // The directory now belongs to district "default": serving it as another is an error.
    let (ok, _, err) = run(&["serve", "--data", data, "--district", "hilltop", "--listen", "127.0.0.1:0"]);
    assert!(!ok && err.contains("district"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reports_its_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--data", dir.path().to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap().to_string();
    assert!(!addr.ends_with(":0"), "the real port: {addr}");
    let health = reqwest::get(format!("http://{addr}/healthz")).await.unwrap().text().await.unwrap();
    assert_eq!(health, "ok");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
}
