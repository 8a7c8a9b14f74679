//! `gridbook enrol` and `gridbook sync` against a real server on a loopback port: the centre's
//! one-time code enrols the store, which then syncs with no `--server` or `--token`, and its history
//! names the enrolled device and holder.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use gridbook_server::{NewDevice, Role, Server, ServerConfig};
use serde_json::Value;

fn gridbook(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .args(["--as", "某人", "--device", "pc", "--json"])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = gridbook(store, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e})"))
}

fn error_kind(store: &Path, args: &[&str]) -> String {
    let out = gridbook(store, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let v: Value = serde_json::from_slice(&out.stderr).expect("a JSON error on stderr");
    v["error"]["kind"].as_str().unwrap().to_string()
}

/// A server serving `data` on a loopback port, in a thread of its own, for the test's lifetime.
fn serve(data: &Path) -> String {
    let server = Server::open(data, ServerConfig::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || runtime.block_on(server.serve(listener, std::future::pending())));
    url
}

#[test]
fn a_store_enrols_with_the_centres_code_and_then_syncs_as_its_device() {
    let data = tempfile::tempdir().unwrap();
    let admin = Server::open(data.path(), ServerConfig::default()).unwrap();
    let secretary = NewDevice {
        name: "village-pc".into(),
        role: Role::Secretary,
        grids: vec![],
        village: Some("幸福村".into()),
        department: None,
        holder: "刘敏".into(),
    };
    let (_, code) = admin.add_device_with_code(secretary).unwrap();
    drop(admin);
    let url = serve(data.path());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();

    assert_eq!(error_kind(store, &["sync"]), "usage", "not enrolled: it says how to enrol");
    assert_eq!(error_kind(store, &["enrol", "--server", &url, "--code", "AAAAA-AAAAA"]), "unauthorized");
    let enrolled = ok(store, &["enrol", "--server", &url, "--code", &code.to_lowercase()]);
    assert_eq!((enrolled["device"].as_str(), enrolled["holder"].as_str()), (Some("village-pc"), Some("刘敏")));
    assert_eq!(enrolled["role"], "secretary");

    let grid = ok(store, &["grid", "add", "幸福村第一网格", "--village", "幸福村"])["id"].as_str().unwrap().to_string();
    let home = ok(store, &["household", "add", "--grid", &grid, "--address", "幸福村一组1号", "--head", "张三"]);
    let synced = ok(store, &["sync"]);
    assert!(synced["changes_sent"].as_u64().unwrap() >= 2, "{synced}");
    assert_eq!(ok(store, &["sync", "--status"])["pending_changes"], 0);

    let history = ok(store, &["history", "household", home["id"].as_str().unwrap()]);
    let first = &history.as_array().unwrap()[0];
    assert_eq!(
        (first["by"].as_str(), first["device"].as_str(), first["verified"].as_bool()),
        (Some("刘敏"), Some("village-pc"), Some(true))
    );
}
