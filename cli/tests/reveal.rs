//! Masked by default, revealed on purpose, on the command line: `resident show|list|search` (as
//! tables and as JSON) and a roster export show ID numbers and phones masked; `resident reveal`
//! and `roster export --reveal` need a reason, print the full values and are logged, which
//! `history access` lists.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn gridbook(store: &Path, json: bool, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gridbook"));
    command.arg("--store").arg(store).args(["--now", "2026-11-20T04:00:00Z", "--as", "刘敏", "--device", "village-pc"]);
    if json {
        command.arg("--json");
    }
    command.args(args).output().expect("the binary runs")
}

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = gridbook(store, true, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(store: &Path, args: &[&str]) -> String {
    let out = gridbook(store, false, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn id_number(birth: &str, sequence: u16) -> String {
    let first17 = format!("330106{birth}{sequence:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

const PHONE: &str = "13812341111";

/// A store with one grid, one household and 张德顺 in it; returns the household's and his ids.
fn ledger(store: &Path) -> (String, String) {
    ok(store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    let home = ok(store, &["household", "add", "--grid", "第一网格", "--address", "一组3号", "--head", "张德顺"]);
    let home = home["id"].as_str().unwrap().to_string();
    let number = id_number("19480305", 31);
    let elder = ok(
        store,
        &["resident", "add", "--household", &home, "--name", "张德顺", "--id-number", &number, "--phone", PHONE],
    );
    (home, elder["id"].as_str().unwrap().to_string())
}

#[test]
fn residents_are_shown_masked_and_revealed_with_a_reason_that_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    let (home, elder) = ledger(store);
    let number = id_number("19480305", 31);
    let masked = gridbook_core::mask_id_number(&number);

    let shown = ok(store, &["resident", "show", &elder]);
    assert_eq!((shown["id_number"].as_str(), shown["phone"].as_str()), (Some(masked.as_str()), Some("138****1111")));
    let listed = ok(store, &["resident", "list", "--household", &home]);
    assert_eq!(listed[0]["id_number"], masked);
    assert_eq!(ok(store, &["resident", "search", &number])[0]["id"], elder.as_str(), "found by the full number");
    assert_eq!(ok(store, &["resident", "search", PHONE])[0]["phone"], "138****1111");
    for args in [
        &["resident", "show", &elder][..],
        &["resident", "list", "--household", &home],
        &["resident", "search", "德顺"],
    ] {
        let table = text(store, args);
        assert!(!table.contains(&number) && !table.contains(PHONE), "{args:?} printed a full number:\n{table}");
    }
    assert!(text(store, &["resident", "show", &elder]).contains("138****1111"));

    let no_reason = gridbook(store, true, &["resident", "reveal", &elder]);
    assert_eq!(no_reason.status.code(), Some(2), "the reason is required");
    let empty = gridbook(store, true, &["resident", "reveal", &elder, "--reason", " "]);
    let error: Value = serde_json::from_slice(&empty.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "invalid_input");
    assert!(ok(store, &["history", "access"]).as_array().unwrap().is_empty(), "nothing revealed, nothing logged");

    let full = ok(store, &["resident", "reveal", &elder, "--reason", "办理高龄补贴"]);
    assert_eq!((full["id_number"].as_str(), full["phone"].as_str()), (Some(number.as_str()), Some(PHONE)));
    assert!(text(store, &["resident", "reveal", &elder, "--reason", "再核对"]).contains(&number));
    let log = ok(store, &["history", "access"]);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    let first = &log[1];
    assert_eq!(
        (first["action"].as_str(), first["reason"].as_str(), first["by"].as_str(), first["device"].as_str()),
        (Some("reveal_resident"), Some("办理高龄补贴"), Some("刘敏"), Some("village-pc"))
    );
    assert_eq!(first["records"], serde_json::json!([elder]));
    assert_eq!(first["fields"], serde_json::json!(["id_number", "phone"]));
    assert!(text(store, &["history", "access"]).contains("办理高龄补贴"));
}

#[test]
fn an_export_is_masked_unless_revealed_with_a_reason_and_then_it_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_, elder) = ledger(&store);
    let number = id_number("19480305", 31);

    let masked = dir.path().join("masked.csv");
    let out = ok(&store, &["roster", "export", masked.to_str().unwrap(), "--grid", "第一网格"]);
    assert_eq!((out["residents"].as_u64(), out["revealed"].as_bool()), (Some(1), Some(false)));
    let written = std::fs::read_to_string(&masked).unwrap();
    assert!(written.contains(&gridbook_core::mask_id_number(&number)) && written.contains("138****1111"), "{written}");
    assert!(!written.contains(&number) && !written.contains(PHONE), "{written}");
    assert!(ok(&store, &["history", "access"]).as_array().unwrap().is_empty(), "a masked export reveals nothing");

    let full = dir.path().join("full.xlsx");
    let to = full.to_str().unwrap();
    let no_reason = gridbook(&store, true, &["roster", "export", to, "--grid", "第一网格", "--reveal"]);
    assert_eq!(no_reason.status.code(), Some(2), "--reveal needs --reason");
    assert!(!full.exists());
    let out = ok(&store, &["roster", "export", to, "--grid", "第一网格", "--reveal", "--reason", "报送民政局"]);
    assert_eq!((out["residents"].as_u64(), out["revealed"].as_bool()), (Some(1), Some(true)));
    let log = ok(&store, &["history", "access"]);
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!((log[0]["action"].as_str(), log[0]["reason"].as_str()), (Some("export_roster"), Some("报送民政局")));
    assert_eq!(log[0]["records"], serde_json::json!([elder]));
}
