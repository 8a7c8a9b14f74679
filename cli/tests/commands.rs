//! The `gridbook` binary as a secretary uses it: every command family with its JSON output, errors
//! with their stable kinds and exit codes.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const NOW: &str = "2026-11-20T04:00:00Z";

fn gridbook(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .args(["--now", NOW, "--as", "刘敏", "--device", "village-pc", "--json"])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = gridbook(store, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e})"))
}

fn err(store: &Path, args: &[&str]) -> (i32, String, String) {
    let out = gridbook(store, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let v: Value = serde_json::from_slice(&out.stderr).expect("a JSON error on stderr");
    let kind = v["error"]["kind"].as_str().unwrap().to_string();
    let message = v["error"]["message"].as_str().unwrap().to_string();
    (out.status.code().unwrap(), kind, message)
}

/// A valid ID number for a birth date and a sequence (odd for men).
fn id_number(birth: &str, sequence: u16) -> String {
    let first17 = format!("330106{birth}{sequence:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

#[test]
fn the_ledger_checks_visits_events_and_history_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    let init = ok(store, &["init", "--grid", "幸福村第一网格", "--village", "幸福村"]);
    let grid = init["grid"]["id"].as_str().unwrap().to_string();
    assert_eq!(ok(store, &["grid", "list"])[0]["name"], "幸福村第一网格");

    let home = ok(
        store,
        &[
            "household",
            "add",
            "--grid",
            "幸福村第一网格",
            "--address",
            "幸福村一组3号",
            "--head",
            "张德顺",
            "--tag",
            "living_alone",
        ],
    );
    let home_id = home["id"].as_str().unwrap().to_string();
    assert_eq!(home["care_tags"], serde_json::json!(["living_alone"]));
    ok(store, &["household", "add", "--grid", &grid, "--address", "幸福村一组10号", "--head", "李四"]);
    ok(store, &["household", "add", "--grid", &grid, "--address", "幸福村一组2号", "--head", "王五"]);
    let list = ok(store, &["household", "list", "--grid", &grid]);
    let addresses: Vec<&str> = list.as_array().unwrap().iter().map(|h| h["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, ["幸福村一组2号", "幸福村一组3号", "幸福村一组10号"], "address order, numbers natural");

    let id = id_number("19480305", 31);
    let elder = ok(
        store,
        &[
            "resident",
            "add",
            "--household",
            "幸福村第一网格:幸福村一组3号",
            "--name",
            "张德顺",
            "--id-number",
            &id,
            "--relation",
            "head",
            "--phone",
            "138 1234 5678",
            "--tag",
            "living_alone",
            "--tag",
            "elderly",
        ],
    );
    let elder_id = elder["id"].as_str().unwrap().to_string();
    assert_eq!(elder["gender"], "male");
    assert_eq!(elder["birth_date"], "1948-03-05");
    assert_eq!(elder["phone"], "138****5678", "shown masked");
    assert_eq!(ok(store, &["resident", "search", "德顺"])[0]["id"], elder["id"]);
    assert_eq!(ok(store, &["resident", "search", &id])[0]["id"], elder["id"]);
    assert_eq!(ok(store, &["resident", "search", "13812345678"])[0]["id"], elder["id"]);
    assert_eq!(ok(store, &["resident", "tagged", "living_alone", "--min-age", "70"]).as_array().unwrap().len(), 1);
    assert!(ok(store, &["resident", "tagged", "living_alone", "--min-age", "90"]).as_array().unwrap().is_empty());
    ok(store, &["resident", "edit", &elder_id, "--phone", "13900001111"]);
    assert_eq!(ok(store, &["resident", "list", "--household", &home_id]).as_array().unwrap().len(), 1);

    let routine =
        ok(store, &["routine", "add", "--resident", &elder_id, "--deadline", "07:30", "--note", "拉开东面窗帘"]);
    let routine_id = routine["id"].as_str().unwrap().to_string();
    // 04:00 UTC is 12:00 in Shanghai: past the deadline with nothing seen.
    let due = ok(store, &["check", "due"]);
    assert_eq!(due[0]["state"], "missed");
    ok(store, &["check", "follow-up", &routine_id, "--outcome", "all_well", "--note", "敲门后开了"]);
    assert_eq!(ok(store, &["check", "due"])[0]["state"], "followed_up");
    ok(store, &["check", "seen", &routine_id, "--day", "2026-11-19", "--at", "2026-11-18T23:10:00Z"]);
    assert_eq!(ok(store, &["check", "due", "--day", "2026-11-19"])[0]["state"], "seen");
    ok(store, &["routine", "edit", &routine_id, "--pause"]);
    assert!(ok(store, &["check", "due"]).as_array().unwrap().is_empty(), "a paused routine is not due");

    ok(
        store,
        &["visit", "add", "--household", &home_id, "--kind", "home", "--purpose", "安全检查", "--notes", "一切正常"],
    );
    ok(store, &["visit", "add", "--household", &home_id, "--kind", "follow_up", "--satisfaction", "satisfied"]);
    assert_eq!(ok(store, &["visit", "list", "--household", &home_id]).as_array().unwrap().len(), 2);
    let coverage = ok(store, &["visit", "coverage", "--grid", &grid, "--from", "2026-11-01", "--to", "2026-11-30"]);
    assert_eq!((coverage["households"].as_u64(), coverage["visited"].as_u64()), (Some(3), Some(1)));
    let last = ok(store, &["visit", "last", "--grid", &grid]);
    assert_eq!(last.as_array().unwrap().iter().filter(|l| !l["last_visit_at"].is_null()).count(), 1);

    let event = ok(
        store,
        &[
            "event",
            "report",
            "--grid",
            &grid,
            "--category",
            "市政设施",
            "--title",
            "路灯不亮",
            "--lat",
            "30.27",
            "--lon",
            "120.15",
            "--urgent",
        ],
    );
    let event_id = event["id"].as_str().unwrap().to_string();
    let photo = dir.path().join("lamp.png");
    image::RgbImage::from_fn(2400, 1800, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
        .save(&photo)
        .unwrap();
    let attached = ok(store, &["event", "photo", &event_id, photo.to_str().unwrap()]);
    assert_eq!((attached["width"].as_u64(), attached["height"].as_u64()), (Some(1600), Some(1200)));
    ok(store, &["event", "step", &event_id, "dispatch", "--department", "市政维修"]);
    ok(store, &["event", "step", &event_id, "accept"]);
    ok(store, &["event", "step", &event_id, "resolve", "--note", "换了灯泡"]);
    ok(store, &["event", "step", &event_id, "evaluate", "--ratings", "5,4,5,4", "--comment", "很快"]);
    let closed = ok(store, &["event", "step", &event_id, "close"]);
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["steps"].as_array().unwrap().len(), 5);
    assert!(ok(store, &["event", "list"]).as_array().unwrap().is_empty());

    let history = ok(store, &["history", "resident", &elder_id]);
    let phone_edit = history.as_array().unwrap().iter().find(|h| h["field"] == "phone" && h["value"] == "139****1111");
    assert_eq!(phone_edit.expect("the phone edit is in the history")["by"], "刘敏");
    assert!(!ok(store, &["history", "household", &home_id]).as_array().unwrap().is_empty());
}

#[test]
fn errors_are_typed_on_stderr_with_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    let grid =
        ok(store, &["init", "--grid", "第一网格", "--village", "幸福村"])["grid"]["id"].as_str().unwrap().to_string();
    let home = ok(store, &["household", "add", "--grid", &grid, "--address", "1号", "--head", "张三"]);
    let home_id = home["id"].as_str().unwrap();

    let bad_id = "110101199003071234";
    let (code, kind, message) =
        err(store, &["resident", "add", "--household", home_id, "--name", "李四", "--id-number", bad_id]);
    assert_eq!((code, kind.as_str()), (1, "invalid_input"));
    assert!(message.contains("check character") && !message.contains(bad_id), "{message}");

    let (code, kind, _) =
        err(store, &["resident", "add", "--household", "01a2044f-f335-756b-88cf-4c1464d42b30", "--name", "李四"]);
    assert_eq!((code, kind.as_str()), (1, "not_found"));

    let (_, kind, _) =
        err(store, &["household", "add", "--grid", &grid, "--address", "2号", "--head", "王五", "--phone", "12345"]);
    assert_eq!(kind, "invalid_input");

    let event = ok(store, &["event", "report", "--grid", &grid, "--category", "环境卫生", "--title", "垃圾"]);
    let (code, kind, message) = err(store, &["event", "step", event["id"].as_str().unwrap(), "resolve"]);
    assert_eq!((code, kind.as_str()), (1, "step_out_of_order"));
    assert!(message.contains("reported"), "{message}");

    let text = dir.path().join("not-a-photo.jpg");
    std::fs::write(&text, "这不是照片").unwrap();
    let (_, kind, _) = err(store, &["event", "photo", event["id"].as_str().unwrap(), text.to_str().unwrap()]);
    assert_eq!(kind, "not_an_image");

    let (code, kind, _) = err(store, &["household", "list", "--grid", "没有这个网格"]);
    assert_eq!((code, kind.as_str()), (2, "usage"));

    // A grid is made with its village: the one that decides whose secretary sees it.
    for args in [
        &["grid", "add", "第二网格"][..],
        &["grid", "add", "第二网格", "--village", " "],
        &["init", "--grid", "第二网格"],
    ] {
        assert!(!gridbook(store, args).status.success(), "{args:?} made a grid without a village");
    }
    assert_eq!(ok(store, &["grid", "list"]).as_array().unwrap().len(), 1);

    // Without --json, a readable line and the same exit code.
    let out = Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .args(["--store", store.to_str().unwrap(), "household", "show", "not-an-id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn demo_fills_a_store_that_every_listing_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    let summary = ok(store, &["demo"]);
    assert_eq!(summary["households"], 60);
    let grid = summary["grids"][0].as_str().unwrap();
    assert_eq!(ok(store, &["household", "list", "--grid", grid]).as_array().unwrap().len(), 30);
    assert!(!ok(store, &["check", "due"]).as_array().unwrap().is_empty());
    assert!(!ok(store, &["event", "overdue"]).as_array().unwrap().is_empty());
    for r in ok(store, &["resident", "search", "王"]).as_array().unwrap().iter().take(5) {
        let full = ok(store, &["resident", "reveal", r["id"].as_str().unwrap(), "--reason", "checking the demo"]);
        gridbook_core::parse_id_number(full["id_number"].as_str().unwrap()).expect("demo ID numbers validate");
    }
    let (code, kind, _) = err(store, &["demo"]);
    assert_eq!((code, kind.as_str()), (2, "usage"), "demo refuses a store that has grids");
}

#[test]
fn a_first_generation_number_is_converted_with_a_note_and_a_number_already_entered_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    ok(store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    let add_home = |address: &str| {
        ok(store, &["household", "add", "--grid", "第一网格", "--address", address, "--head", "张三"])["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (home, other) = (add_home("一组3号"), add_home("一组4号"));
    let out = gridbook(
        store,
        &["resident", "add", "--household", &home, "--name", "张德顺", "--id-number", "330106480305031"],
    );
    assert!(out.status.success());
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["id_number"], gridbook_core::mask_id_number(&id_number("19480305", 31)));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "note: converted a 15-digit ID number to 18 digits\n");

    let (code, kind, message) = err(
        store,
        &["resident", "add", "--household", &other, "--name", "张德顺", "--id-number", &id_number("19480305", 31)],
    );
    assert_eq!((code, kind.as_str()), (1, "invalid_input"));
    assert!(message.contains("第一网格:一组3号") && !message.contains("330106"), "{message}");

    let li = ok(
        store,
        &["resident", "add", "--household", &other, "--name", "李四", "--id-number", &id_number("19500101", 11)],
    );
    let li_id = li["id"].as_str().unwrap();
    let (_, kind, message) = err(store, &["resident", "edit", li_id, "--id-number", "330106480305031"]);
    assert_eq!(kind, "invalid_input");
    assert!(message.contains("第一网格:一组3号"), "{message}");
    let own = ok(store, &["resident", "edit", li_id, "--id-number", &id_number("19500101", 11)]);
    assert_eq!(own["id_number"], li["id_number"]);
}

#[test]
fn care_tags_are_added_removed_and_cleared_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path();
    let grid = ok(store, &["grid", "add", "第一网格", "--village", "幸福村"])["id"].as_str().unwrap().to_string();
    let home = ok(store, &["household", "add", "--grid", &grid, "--address", "一组1号", "--head", "张德顺"]);
    let home = home["id"].as_str().unwrap().to_string();
    let tags = |v: &Value| v["care_tags"].clone();

    let h = ok(store, &["household", "edit", &home, "--add-tag", "living_alone", "--add-tag", "low_income"]);
    assert_eq!(tags(&h), serde_json::json!(["living_alone", "low_income"]));
    let h = ok(store, &["household", "edit", &home, "--remove-tag", "low_income", "--add-tag", "elderly"]);
    assert_eq!(tags(&h), serde_json::json!(["elderly", "living_alone"]));
    let h = ok(store, &["household", "edit", &home, "--notes", "子女在外地"]);
    assert_eq!(tags(&h), serde_json::json!(["elderly", "living_alone"]), "left out, the tags stay");
    let h = ok(store, &["household", "edit", &home, "--tag", "disability"]);
    assert_eq!(tags(&h), serde_json::json!(["disability"]), "--tag gives the whole set");
    let h = ok(store, &["household", "edit", &home, "--clear-tags"]);
    assert_eq!(tags(&h), serde_json::json!([]));
    let both = gridbook(store, &["household", "edit", &home, "--tag", "elderly", "--add-tag", "disability"]);
    assert_eq!(both.status.code(), Some(2), "a whole set and a change to it at once is a usage error");

    let elder = ok(
        store,
        &[
            "resident",
            "add",
            "--household",
            &home,
            "--name",
            "张德顺",
            "--id-number",
            &id_number("19480305", 13),
            "--tag",
            "elderly",
            "--tag",
            "disability",
        ],
    );
    let elder = elder["id"].as_str().unwrap().to_string();
    let r = ok(store, &["resident", "edit", &elder, "--remove-tag", "disability"]);
    assert_eq!(tags(&r), serde_json::json!(["elderly"]));
    let r = ok(store, &["resident", "edit", &elder, "--clear-tags"]);
    assert_eq!(tags(&r), serde_json::json!([]), "a resident's tags can be cleared");
}
