//! `roster import` and `roster export`: a secretary's Excel roster with some bad rows — every good
//! row kept, every bad one reported by the row number Excel shows, a second import changing
//! nothing, and an export that imports back to the same ledger.

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
        .output()
        .expect("the binary runs")
}

fn id_number(birth: &str, sequence: u16) -> String {
    let first17 = format!("330106{birth}{sequence:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

/// Header, then rows; rows 4, 6 and 8 (as Excel numbers them) are bad.
fn roster() -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let mut bad_id = id_number("19500101", 11);
    bad_id.replace_range(17..18, if bad_id.ends_with('1') { "2" } else { "1" });
    vec![
        s(&["网格", "地址", "姓名", "身份证号", "性别", "出生日期", "与户主关系", "联系电话", "户籍状态", "关爱标签"]),
        s(&[
            "",
            "幸福村一组3号",
            "张德顺",
            &id_number("19480305", 31),
            "男",
            "1948-03-05",
            "户主",
            "13812345678",
            "户籍",
            "独居、老年",
        ]),
        s(&["", "幸福村一组5号", "李建国", &id_number("19650712", 15), "男", "1965/7/12", "户主", "", "户籍", ""]),
        s(&["", "幸福村一组5号", "王秀英", &bad_id, "女", "1950-01-01", "配偶", "", "", ""]),
        s(&[
            "",
            "幸福村一组5号",
            "李明",
            &id_number("19920203", 27),
            "男",
            "19920203",
            "儿子",
            "139 0000 1111",
            "常住",
            "",
        ]),
        s(&["", "幸福村一组5号", "李娜", "", "女", "1995-05-05", "女儿", "12345", "", ""]),
        s(&["", "", "", "", "", "", "", "", "", ""]),
        s(&["", "幸福村一组8号", "", "", "女", "1990-01-01", "户主", "", "", ""]),
        s(&["", "幸福村一组8号", "陈桂兰", "", "女", "1942-09-09", "户主", "", "流动", "独居"]),
    ]
}

fn write_csv(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

fn write_xlsx(path: &Path, rows: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            // A real Excel roster: dates as date cells where the secretary typed them so.
            if c == 5 && r > 0 && cell.len() == 10 && cell.contains('-') {
                let d = chrono::NaiveDate::parse_from_str(cell, "%Y-%m-%d").unwrap();
                let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    d.format("%Y").to_string().parse().unwrap(),
                    d.format("%m").to_string().parse().unwrap(),
                    d.format("%d").to_string().parse().unwrap(),
                )
                .unwrap();
                let f = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                sheet.write_datetime_with_format(r as u32, c as u16, &dt, &f).unwrap();
            } else if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

fn import(store: &Path, file: &Path, grid: &str) -> (i32, Value) {
    let out = gridbook(store, &["roster", "import", file.to_str().unwrap(), "--grid", grid]);
    let report = serde_json::from_slice(&out.stdout).expect("an import report");
    (out.status.code().unwrap(), report)
}

fn residents(store: &Path, grid: &str) -> Vec<Value> {
    let homes = gridbook(store, &["household", "list", "--grid", grid]);
    let homes: Value = serde_json::from_slice(&homes.stdout).unwrap();
    let mut all = Vec::new();
    for h in homes.as_array().unwrap() {
        let out = gridbook(store, &["resident", "list", "--household", h["id"].as_str().unwrap()]);
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        for mut r in list.as_array().unwrap().clone() {
            r["address"] = h["address"].clone();
            for volatile in ["id", "household_id", "grid_id"] {
                r.as_object_mut().unwrap().remove(volatile);
            }
            all.push(r);
        }
    }
    all.sort_by_key(|r| r["name"].as_str().unwrap().to_string());
    all
}

fn check_roster_import(file: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    gridbook(&store, &["init", "--grid", "幸福村第一网格", "--village", "幸福村"]);
    let (code, report) = import(&store, file, "幸福村第一网格");
    assert_eq!(code, 3, "some rows were bad: {report}");
    assert_eq!(report["rows"], 7, "blank rows are not rows");
    assert_eq!((report["residents_added"].as_u64(), report["households_added"].as_u64()), (Some(4), Some(3)));
    let bad: Vec<(u64, String)> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["row"].as_u64().unwrap(), b["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [4, 6, 8], "{bad:?}");
    assert!(bad[0].1.contains("ID number"), "{}", bad[0].1);
    assert!(bad[1].1.contains("phone"), "{}", bad[1].1);
    assert!(bad[2].1.contains("name"), "{}", bad[2].1);

    let people = residents(&store, "幸福村第一网格");
    let names: Vec<&str> = people.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["张德顺", "李建国", "李明", "陈桂兰"]);
    let zhang = &people[0];
    assert_eq!(zhang["care_tags"], serde_json::json!(["elderly", "living_alone"]));
    assert_eq!((zhang["relation"].as_str(), zhang["phone"].as_str()), (Some("head"), Some("13812345678")));
    assert_eq!(people[1]["birth_date"], "1965-07-12");
    assert_eq!((people[2]["relation"].as_str(), people[2]["registration"].as_str()), (Some("child"), Some("resident")));

    // Again: nothing new, nothing duplicated.
    let (_, again) = import(&store, file, "幸福村第一网格");
    assert_eq!((again["residents_added"].as_u64(), again["households_added"].as_u64()), (Some(0), Some(0)));
    assert_eq!(again["residents_unchanged"], 4);
    assert_eq!(residents(&store, "幸福村第一网格"), people);

    // Export, import into a fresh store: the same ledger.
    for ext in ["csv", "xlsx"] {
        let out = dir.path().join(format!("export.{ext}"));
        let exported = gridbook(&store, &["roster", "export", out.to_str().unwrap(), "--grid", "幸福村第一网格"]);
        assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
        let fresh = dir.path().join(format!("fresh-{ext}"));
        gridbook(&fresh, &["init", "--grid", "幸福村第一网格", "--village", "幸福村"]);
        let (code, report) = import(&fresh, &out, "幸福村第一网格");
        assert_eq!(code, 0, "{report}");
        assert_eq!(residents(&fresh, "幸福村第一网格"), people, "round trip through .{ext}");
    }
}

#[test]
fn a_csv_roster_keeps_good_rows_and_reports_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.csv");
    write_csv(&file, &roster());
    check_roster_import(&file);
}

#[test]
fn an_xlsx_roster_with_date_cells_keeps_good_rows_and_reports_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.xlsx");
    write_xlsx(&file, &roster());
    check_roster_import(&file);
}

#[test]
fn an_id_number_stored_as_an_excel_number_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("numbers.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["地址", "姓名", "身份证号"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "一组1号").unwrap();
    sheet.write_string(1, 1, "赵六").unwrap();
    sheet.write_number(1, 2, 330106194803053100.0).unwrap();
    book.save(&file).unwrap();
    let store = dir.path().join("store");
    gridbook(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    let (code, report) = import(&store, &file, "第一网格");
    assert_eq!(code, 3);
    assert!(report["bad_rows"][0]["reason"].as_str().unwrap().contains("as text"), "{report}");
}

#[test]
fn a_roster_without_a_name_column_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.csv");
    std::fs::write(&file, "地址,电话\n一组1号,13812345678\n").unwrap();
    let store = dir.path().join("store");
    gridbook(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    let out = gridbook(&store, &["roster", "import", file.to_str().unwrap(), "--grid", "第一网格"]);
    assert_eq!(out.status.code(), Some(1));
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["error"]["kind"], "file");
    assert!(e["error"]["message"].as_str().unwrap().contains("姓名"));
}

#[test]
fn the_older_ledger_spelling_still_imports_and_exports_but_is_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.csv");
    std::fs::write(&file, "地址,姓名,性别,出生日期\n一组1号,赵六,男,1950-01-01\n").unwrap();
    let store = dir.path().join("store");
    gridbook(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    let out = gridbook(&store, &["ledger", "import", file.to_str().unwrap(), "--grid", "第一网格"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["residents_added"], 1);
    let back = dir.path().join("back.csv");
    let out = gridbook(&store, &["ledger", "export", back.to_str().unwrap(), "--grid", "第一网格"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&back).unwrap().contains("赵六"));

    let help = Command::new(env!("CARGO_BIN_EXE_gridbook")).arg("help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let listed = |name: &str| help.lines().any(|l| l.trim_start().starts_with(name));
    assert!(listed("roster") && !listed("ledger"), "the old name works but is not offered: {help}");
}
