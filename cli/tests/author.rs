//! A command line that remembers who it is: a store not enrolled is told once who works on it, and
//! names them on every change after; no change is ever made in a made-up name.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn gridbook(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .args(["--now", "2026-11-20T04:00:00Z", "--json"])
        .args(args)
        .env_remove("GRIDBOOK_USER")
        .env_remove("GRIDBOOK_DEVICE")
        .output()
        .expect("the binary runs")
}

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = gridbook(store, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e})"))
}

/// Who the history of household `id` says made each of its changes.
fn authors(store: &Path, id: &str) -> Vec<(String, String)> {
    let history = ok(store, &["history", "household", id]);
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["by"].as_str().unwrap().to_string(), e["device"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn a_store_is_told_once_who_works_on_it_and_never_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();

    let out = gridbook(store, &["grid", "add", "第一网格", "--village", "幸福村"]);
    assert!(!out.status.success(), "no one said who is working");
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "usage");
    assert!(error["error"]["message"].as_str().unwrap().contains("--as"), "{error}");

    ok(store, &["--as", "刘敏", "--device", "village-pc", "init"]);
    let grid = ok(store, &["grid", "add", "第一网格", "--village", "幸福村"])["id"].as_str().unwrap().to_string();
    let home = ok(store, &["household", "add", "--grid", &grid, "--address", "一组1号", "--head", "张三"]);
    let home = home["id"].as_str().unwrap().to_string();
    let made = authors(store, &home);
    assert!(!made.is_empty() && made.iter().all(|a| *a == ("刘敏".to_string(), "village-pc".to_string())), "{made:?}");

    // Another person at the same computer says so once; the store works as them from then on.
    ok(store, &["--as", "王芳", "household", "edit", &home, "--notes", "独居老人"]);
    ok(store, &["household", "edit", &home, "--notes", "独居老人，每周探访"]);
    let edits: Vec<(String, String)> = authors(store, &home).into_iter().skip(made.len()).collect();
    let wang = ("王芳".to_string(), "village-pc".to_string());
    assert_eq!(edits, [wang.clone(), wang], "both edits by 王芳, the second with no --as");
}

#[test]
fn the_demo_village_is_kept_by_its_secretary() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    ok(store, &["demo"]);
    let grids = ok(store, &["grid", "list"]);
    assert!(!grids.as_array().unwrap().is_empty(), "read with no --as: the demo remembered its secretary");
}
