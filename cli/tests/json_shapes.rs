//! The JSON shapes `cli/README.md` documents, pinned: each JSON-emitting command runs on a small
//! known store, and its keys and value types must be exactly the documented ones — times RFC 3339
//! UTC with milliseconds, days `YYYY-MM-DD`, ids text, enumerations their names.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const NOW: &str = "2026-11-20T04:00:00Z";

fn ok(store: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .args(["--now", NOW, "--as", "刘敏", "--device", "village-pc", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[path = "json_shapes/shapes.rs"]
mod shapes;

use shapes::*;

/// Checks that `value` has exactly the keys of `shape`, each of its type; `?` allows null.
fn pin(value: &Value, shape: &[(&str, &str)], what: &str) {
    let object = value.as_object().unwrap_or_else(|| panic!("{what} is not an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = shape.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "the keys of {what}");
    for (key, kind) in shape {
        let v = &object[*key];
        let what = format!("{what}.{key}");
        match kind.strip_suffix('?') {
            Some(_) if v.is_null() => {}
            Some(kind) => pin_value(v, kind, &what),
            None => pin_value(v, kind, &what),
        }
    }
}

fn pin_value(v: &Value, kind: &str, what: &str) {
    let fits = match kind {
        "text" => v.is_string(),
        "id" => v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        "time" => v.as_str().is_some_and(|s| {
            s.len() == 24 && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3fZ").is_ok()
        }),
        "day" => v.as_str().is_some_and(|s| s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        "bool" => v.is_boolean(),
        "int" => v.is_u64(),
        "number" => v.is_f64() || v.is_i64() || v.is_u64(),
        "texts" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        nested => {
            let (shape, many) = match nested {
                "grid" => (GRID, false),
                "location" => (LOCATION, false),
                "evaluation" => (EVALUATION, false),
                "steps" => (STEP, true),
                "photos" => (PHOTO, true),
                "bad_rows" => (BAD_ROW, true),
                "notes" => (NOTE, true),
                "moves" => (MOVE, true),
                "refused" => (REFUSED, true),
                other => panic!("no shape {other}"),
            };
            if many {
                v.as_array()
                    .unwrap_or_else(|| panic!("{what} is not an array"))
                    .iter()
                    .for_each(|i| pin(i, shape, what));
            } else {
                pin(v, shape, what);
            }
            true
        }
    };
    assert!(fits, "{what} is not a {kind}: {v}");
}

/// Pins every element of a list, and that there is at least one (an empty list pins nothing).
fn pin_list(value: &Value, shape: &[(&str, &str)], what: &str) {
    let items = value.as_array().unwrap_or_else(|| panic!("{what} is not an array"));
    assert!(!items.is_empty(), "{what} should not be empty here");
    items.iter().for_each(|i| pin(i, shape, what));
}

fn id_number(birth: &str, sequence: u16) -> String {
    let first17 = format!("330106{birth}{sequence:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

#[test]
fn every_json_output_has_its_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let init = ok(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    pin(&init, INIT, "init");
    assert_eq!(init["grid"]["created_at"], "2026-11-20T04:00:00.000Z", "RFC 3339 UTC with milliseconds");
    let grid = init["grid"]["id"].as_str().unwrap().to_string();
    pin(&ok(&store, &["grid", "add", "第二网格", "--village", "幸福村"]), GRID, "grid");
    pin_list(&ok(&store, &["grid", "list"]), GRID, "grid list");
    pin(&ok(&store, &["grid", "show", "第一网格"]), GRID, "grid show");

    let home =
        ok(&store, &["household", "add", "--grid", &grid, "--address", "1号", "--head", "张德顺", "--tag", "elderly"]);
    pin(&home, HOUSEHOLD, "household");
    assert_eq!(home["care_tags"], serde_json::json!(["elderly"]));
    assert_eq!(home["status"], "active");
    let home_id = home["id"].as_str().unwrap().to_string();
    let gone = ok(&store, &["household", "add", "--grid", &grid, "--address", "2号", "--head", "李四"]);
    let gone = ok(&store, &["household", "move-out", gone["id"].as_str().unwrap()]);
    pin(&gone, HOUSEHOLD, "household moved out");
    assert_eq!(
        (gone["status"].as_str(), gone["moved_out_at"].as_str()),
        (Some("moved_out"), Some("2026-11-20T04:00:00.000Z"))
    );
    pin_list(&ok(&store, &["household", "list", "--grid", &grid, "--all"]), HOUSEHOLD, "household list");

    let id = id_number("19480305", 31);
    let elder = ok(
        &store,
        &[
            "resident",
            "add",
            "--household",
            &home_id,
            "--name",
            "张德顺",
            "--id-number",
            &id,
            "--relation",
            "head",
            "--phone",
            "13812345678",
        ],
    );
    pin(&elder, RESIDENT, "resident");
    assert_eq!(
        (elder["gender"].as_str(), elder["relation"].as_str(), elder["registration"].as_str()),
        (Some("male"), Some("head"), Some("registered"))
    );
    let elder_id = elder["id"].as_str().unwrap().to_string();
    pin_list(&ok(&store, &["resident", "search", "德顺"]), RESIDENT, "resident search");
    let other = ok(
        &store,
        &[
            "resident",
            "add",
            "--household",
            &home_id,
            "--name",
            "王秀英",
            "--birth",
            "1950-01-01",
            "--gender",
            "female",
        ],
    );
    pin(&ok(&store, &["resident", "deceased", other["id"].as_str().unwrap()]), RESIDENT, "resident deceased");

    let routine = ok(&store, &["routine", "add", "--resident", &elder_id, "--deadline", "07:30", "--days", "mon,tue"]);
    pin(&routine, ROUTINE, "routine");
    assert_eq!(
        (routine["deadline"].as_str(), routine["days"].clone()),
        (Some("07:30:00"), serde_json::json!(["mon", "tue"]))
    );
    let routine_id = routine["id"].as_str().unwrap().to_string();
    ok(&store, &["routine", "edit", &routine_id, "--days", "mon,tue,wed,thu,fri,sat,sun"]);
    let due = ok(&store, &["check", "due"]);
    pin_list(&due, DUE_CHECK, "due check (missed)");
    assert_eq!(due[0]["state"], "missed");
    let seen = ok(&store, &["check", "seen", &routine_id, "--day", "2026-11-19", "--at", "2026-11-18T23:10:00Z"]);
    pin(&seen, OBSERVATION, "observation (seen)");
    assert_eq!(seen["at"], "2026-11-18T23:10:00.000Z");
    pin(
        &ok(&store, &["check", "follow-up", &routine_id, "--outcome", "all_well"]),
        OBSERVATION,
        "observation (follow-up)",
    );
    let followed = ok(&store, &["check", "due"]);
    pin_list(&followed, DUE_CHECK, "due check (followed up)");
    assert_eq!(
        (followed[0]["state"].as_str(), followed[0]["outcome"].as_str()),
        (Some("followed_up"), Some("all_well"))
    );

    let visit = ok(
        &store,
        &[
            "visit",
            "add",
            "--household",
            &home_id,
            "--kind",
            "follow_up",
            "--purpose",
            "安全检查",
            "--satisfaction",
            "very_satisfied",
        ],
    );
    pin(&visit, VISIT, "visit");
    assert_eq!((visit["kind"].as_str(), visit["satisfaction"].as_str()), (Some("follow_up"), Some("very_satisfied")));
    pin_list(&ok(&store, &["visit", "list", "--household", &home_id]), VISIT, "visit list");
    pin(
        &ok(&store, &["visit", "coverage", "--grid", &grid, "--from", "2026-11-01", "--to", "2026-11-30"]),
        COVERAGE,
        "coverage",
    );
    pin_list(&ok(&store, &["visit", "last", "--grid", &grid]), LAST_VISIT, "last visit");

    let event = ok(
        &store,
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
            "--household",
            &home_id,
            "--urgent",
        ],
    );
    pin(&event, EVENT, "event");
    assert_eq!(
        (event["state"].as_str(), event["level"].as_str(), event["urgency"].as_str()),
        (Some("reported"), Some("community"), Some("urgent"))
    );
    let event_id = event["id"].as_str().unwrap().to_string();
    let photo = dir.path().join("lamp.png");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90])).save(&photo).unwrap();
    pin(&ok(&store, &["event", "photo", &event_id, photo.to_str().unwrap()]), PHOTO, "photo");
    ok(&store, &["event", "step", &event_id, "dispatch", "--department", "市政维修"]);
    ok(&store, &["event", "step", &event_id, "accept"]);
    ok(&store, &["event", "step", &event_id, "resolve"]);
    let evaluated = ok(&store, &["event", "step", &event_id, "evaluate", "--ratings", "5,4,5,4", "--comment", "很快"]);
    pin(&evaluated, EVENT, "event with steps");
    let actions: Vec<&str> =
        evaluated["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["dispatch", "accept", "resolve", "evaluate"]);
    assert_eq!(evaluated["steps"][0]["department"], "市政维修");
    assert_eq!(evaluated["steps"][3]["evaluation"]["response_speed"], 5);
    pin(&ok(&store, &["event", "show", &event_id]), EVENT, "event show");
    pin_list(&ok(&store, &["event", "list"]), EVENT, "event list");
    ok(&store, &["event", "report", "--grid", &grid, "--category", "环境卫生", "--title", "垃圾"]);
    let later = Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(&store)
        .args(["--now", "2026-11-23T04:00:00Z", "--json", "event", "overdue"])
        .output()
        .unwrap();
    pin_list(&serde_json::from_slice(&later.stdout).unwrap(), EVENT, "event overdue");

    pin_list(&ok(&store, &["history", "resident", &elder_id]), HISTORY_ENTRY, "history entry");
    pin_list(&ok(&store, &["history", "household", &home_id]), HISTORY_ENTRY, "history entry");
    pin(&ok(&store, &["sync", "--status"]), SYNC_STATUS, "sync status");
    pin(&ok(&store, &["resident", "reveal", &elder_id, "--reason", "核对"]), RESIDENT, "resident reveal");
    pin_list(&ok(&store, &["history", "access"]), ACCESS_ENTRY, "access entry");
    let asked = ok(&store, &["resident", "erase", &elder_id, "--reason", "本人申请删除"]);
    pin(&asked, ERASURE, "erasure");
    assert_eq!((asked["kind"].as_str(), asked["state"].as_str()), (Some("resident"), Some("requested")));
    pin_list(&ok(&store, &["erasures"]), ERASURE, "erasures");

    let file = dir.path().join("roster.csv");
    pin(&ok(&store, &["roster", "export", file.to_str().unwrap(), "--grid", &grid]), EXPORT, "export");
    let report = ok(&store, &["roster", "import", file.to_str().unwrap(), "--grid", &grid]);
    pin(&report, IMPORT_REPORT, "import report");
    let moving = dir.path().join("moving.csv");
    std::fs::write(&moving, format!("地址,姓名,身份证号\n3号,张德顺,{id}\n")).unwrap();
    let report = ok(&store, &["roster", "import", moving.to_str().unwrap(), "--grid", &grid]);
    assert_eq!(report["moves"].as_array().map(Vec::len), Some(1), "{report}");
    pin(&report, IMPORT_REPORT, "import report with a move");
}
