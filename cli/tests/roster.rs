//! `roster import` and `roster export`: a secretary's Excel roster with some bad rows — every good
//! row kept, every bad one reported by the row number Excel shows, a second import changing
//! nothing, and an export that imports back to the same ledger.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use proptest::prelude::*;
use serde_json::Value;

fn gridbook(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridbook"))
        .arg("--store")
        .arg(store)
        .args(["--now", "2026-11-20T04:00:00Z", "--as", "刘敏", "--device", "village-pc", "--json"])
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
    assert_eq!((zhang["relation"].as_str(), zhang["phone"].as_str()), (Some("head"), Some("138****5678")));
    assert_eq!(people[1]["birth_date"], "1965-07-12");
    assert_eq!((people[2]["relation"].as_str(), people[2]["registration"].as_str()), (Some("child"), Some("resident")));

    // Again: nothing new, nothing duplicated.
    let (_, again) = import(&store, file, "幸福村第一网格");
    assert_eq!((again["residents_added"].as_u64(), again["households_added"].as_u64()), (Some(0), Some(0)));
    assert_eq!(again["residents_unchanged"], 4);
    assert_eq!(residents(&store, "幸福村第一网格"), people);

    // Export with full numbers, import into a fresh store: the same ledger.
    for ext in ["csv", "xlsx"] {
        let out = dir.path().join(format!("export.{ext}"));
        let to = out.to_str().unwrap();
        let exported =
            gridbook(&store, &["roster", "export", to, "--grid", "幸福村第一网格", "--reveal", "--reason", "迁移台账"]);
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

#[test]
fn id_numbers_are_read_as_people_type_them_and_a_person_already_entered_is_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    gridbook(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    gridbook(&store, &["grid", "add", "第二网格", "--village", "幸福村"]);
    let elsewhere =
        gridbook(&store, &["household", "add", "--grid", "第二网格", "--address", "二组1号", "--head", "周强"]);
    let elsewhere: Value = serde_json::from_slice(&elsewhere.stdout).unwrap();
    let taken = id_number("19700101", 11);
    let added = gridbook(
        &store,
        &["resident", "add", "--household", elsewhere["id"].as_str().unwrap(), "--name", "周强", "--id-number", &taken],
    );
    assert!(added.status.success());

    let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let rows = vec![
        s(&["地址", "姓名", "身份证号", "性别"]),
        s(&["一组1号", "张德顺", "330106480305031", "男"]),
        s(&["一组1号", "李秀英", &format!("\u{3000}{}", full_width(&id_number("19500101", 12))), "女"]),
        s(&["一组2号", "周强", &taken.to_lowercase(), "男"]),
        s(&["一组2号", "李秀英", &id_number("19500101", 12), "女"]),
        s(&["一组3号", "张小宝", &id_number("20261121", 11), "男"]),
    ];
    let file = dir.path().join("typed.csv");
    write_csv(&file, &rows);
    let (code, report) = import(&store, &file, "第一网格");
    assert_eq!(code, 3, "{report}");
    assert_eq!(report["residents_added"], 1, "{report}");
    assert_eq!(
        report["notes"],
        serde_json::json!([{ "row": 2, "note": "converted a 15-digit ID number to 18 digits" }])
    );
    let bad: Vec<(u64, &str)> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["row"].as_u64().unwrap(), b["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [3, 4, 5, 6], "{report}");
    // One number written two ways is one person in two rows.
    assert!(bad[0].1.contains("row 5"), "{}", bad[0].1);
    assert!(bad[1].1.contains("第二网格:二组1号"), "{}", bad[1].1);
    assert!(bad[2].1.contains("row 3"), "{}", bad[2].1);
    assert!(bad[3].1.contains("in the future"), "{}", bad[3].1);
    for (_, reason) in &bad {
        assert!(!reason.contains("330106"), "no number in {reason}");
    }
    let stored: Vec<String> =
        residents(&store, "第一网格").iter().map(|r| r["id_number"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored, [gridbook_core::mask_id_number(&id_number("19480305", 31))]);
}

/// The ID number `number` written in full-width digits, as a Chinese input method types it.
fn full_width(number: &str) -> String {
    number.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c)).collect()
}

fn rows(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

/// A store with one grid, 第一网格, in a temporary directory.
fn new_store(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("store");
    gridbook(&store, &["init", "--grid", "第一网格", "--village", "幸福村"]);
    store
}

fn import_rows(store: &Path, dir: &Path, name: &str, rows: &[Vec<String>]) -> (i32, Value) {
    let file = dir.join(name);
    write_csv(&file, rows);
    import(store, &file, "第一网格")
}

fn bad_rows(report: &Value) -> Vec<(u64, String)> {
    report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["row"].as_u64().unwrap(), b["reason"].as_str().unwrap().to_string()))
        .collect()
}

fn addresses(store: &Path) -> Vec<String> {
    let out = gridbook(store, &["household", "list", "--grid", "第一网格"]);
    let homes: Value = serde_json::from_slice(&out.stdout).unwrap();
    homes.as_array().unwrap().iter().map(|h| h["address"].as_str().unwrap().to_string()).collect()
}

/// The automerge changes the store has written and not yet sent: every write adds one.
fn changes_waiting(store: &Path) -> u64 {
    let out = gridbook(store, &["sync", "--status"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    status["pending_changes"].as_u64().unwrap()
}

/// A CSV file's rows, header first.
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn a_masked_export_imports_back_unchanged_and_a_masked_number_not_the_ledgers_is_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let (zhang, li) = (id_number("19480305", 31), id_number("19500606", 22));
    let file = rows(&[
        &["地址", "姓名", "身份证号", "性别", "出生日期", "联系电话", "与户主关系"],
        &["一组1号", "张德顺", &zhang, "", "", "13812345678", "户主"],
        &["一组1号", "李秀英", &li, "", "", "", "配偶"],
        &["一组2号", "王芳", "", "女", "1960-02-02", "13900001111", "户主"],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "first.csv", &file);
    assert_eq!(code, 0, "{report}");
    let before = residents(&store, "第一网格");
    let waiting = changes_waiting(&store);

    // The secretary's habit: export, open in Excel, import back.
    let export = dir.path().join("export.csv");
    let out = gridbook(&store, &["roster", "export", export.to_str().unwrap(), "--grid", "第一网格"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, report) = import(&store, &export, "第一网格");
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        (
            report["residents_unchanged"].as_u64(),
            report["residents_updated"].as_u64(),
            report["residents_added"].as_u64()
        ),
        (Some(3), Some(0), Some(0)),
        "{report}"
    );
    assert_eq!(residents(&store, "第一网格"), before, "no full number was overwritten with its mask");
    assert_eq!(changes_waiting(&store), waiting, "nothing was written");

    // Edited: a masked number typed over with another's mask, a masked phone changed, and a full
    // phone added. The masks cannot be stored; the full phone is an update.
    let mut sheet = read_csv(&export);
    let column = |name: &str| sheet[0].iter().position(|c| c == name).unwrap();
    let (id_col, phone_col, name_col) = (column("身份证号"), column("联系电话"), column("姓名"));
    let row_of = |sheet: &[Vec<String>], name: &str| sheet.iter().position(|r| r[name_col] == name).unwrap();
    let (zhang_row, wang_row, li_row) = (row_of(&sheet, "张德顺"), row_of(&sheet, "王芳"), row_of(&sheet, "李秀英"));
    assert_eq!(sheet[zhang_row][id_col], gridbook_core::mask_id_number(&zhang));
    sheet[zhang_row][id_col] = gridbook_core::mask_id_number(&id_number("19480305", 33));
    sheet[wang_row][phone_col] = "139****2222".into();
    sheet[li_row][phone_col] = "13700002222".into();
    let (code, report) = import_rows(&store, dir.path(), "edited.csv", &sheet);
    assert_eq!(code, 3, "{report}");
    let bad = bad_rows(&report);
    assert_eq!(bad.iter().map(|b| b.0 as usize).collect::<Vec<_>>(), [zhang_row + 1, wang_row + 1], "{report}");
    assert!(bad[0].1.contains("ID number is masked") && bad[1].1.contains("phone is masked"), "{bad:?}");
    assert_eq!(report["residents_updated"], 1, "{report}");
    let after = residents(&store, "第一网格");
    let phone_of = |people: &[Value], name: &str| {
        people.iter().find(|r| r["name"] == name).map(|r| r["phone"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(phone_of(&after, "李秀英").as_deref(), Some("137****2222"));
    assert_eq!(phone_of(&after, "王芳"), phone_of(&before, "王芳"), "the refused row changed nothing");

    // A masked number cannot enter a new person either.
    let file = rows(&[&["地址", "姓名", "身份证号"], &["一组5号", "赵六", &gridbook_core::mask_id_number(&zhang)]]);
    let (_, report) = import_rows(&store, dir.path(), "new.csv", &file);
    assert!(bad_rows(&report)[0].1.contains("masked"), "{report}");
    assert_eq!(report["households_added"], 0, "{report}");
}

#[test]
fn two_rows_with_one_id_number_are_both_refused_naming_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let zhang = id_number("19480305", 31);
    let file = rows(&[
        &["地址", "姓名", "身份证号", "性别"],
        &["一组1号", "张德顺", &zhang, "男"],
        &["一组2号", "王秀英", &id_number("19500101", 12), "女"],
        &["一组1号", "张德", &format!(" {}", full_width(&zhang)), "男"],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "twice.csv", &file);
    assert_eq!(code, 3, "{report}");
    let bad = bad_rows(&report);
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [2, 4], "{report}");
    assert!(bad[0].1.contains("row 4"), "{}", bad[0].1);
    assert!(bad[1].1.contains("row 2"), "{}", bad[1].1);
    for (_, reason) in &bad {
        assert!(!reason.contains("330106") && !reason.contains("３３０"), "no number in {reason}");
    }
    assert_eq!((report["residents_added"].as_u64(), report["households_added"].as_u64()), (Some(1), Some(1)));
    let names: Vec<String> =
        residents(&store, "第一网格").iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["王秀英"]);
    assert_eq!(addresses(&store), ["一组2号"]);
}

#[test]
fn importing_the_same_file_again_changes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let file = rows(&[
        &["地址", "姓名", "身份证号", "性别", "出生日期", "与户主关系", "联系电话"],
        &["一组1号", "王伟", &id_number("19600101", 11), "男", "", "户主", "13812345678"],
        &["一组1号", "王伟", &id_number("19850101", 13), "男", "", "子", ""],
        &["一组1号", "李娜", "", "女", "1962-05-05", "配偶", ""],
        &["一组2号", "陈桂兰", "", "女", "1942-09-09", "户主", ""],
    ]);
    let (code, first) = import_rows(&store, dir.path(), "roster.csv", &file);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["residents_added"], 4, "{first}");
    let waiting = changes_waiting(&store);
    let people = residents(&store, "第一网格");
    let history = gridbook(&store, &["history", "household", "第一网格:一组1号"]).stdout;

    let (code, again) = import_rows(&store, dir.path(), "roster.csv", &file);
    assert_eq!(code, 0, "{again}");
    assert_eq!(
        (again["residents_added"].as_u64(), again["residents_updated"].as_u64(), again["households_added"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{again}"
    );
    assert_eq!(again["residents_unchanged"], 4, "{again}");
    assert_eq!(again["moves"], serde_json::json!([]), "{again}");
    assert_eq!(changes_waiting(&store), waiting, "a second import writes no change");
    assert_eq!(gridbook(&store, &["history", "household", "第一网格:一组1号"]).stdout, history);
    assert_eq!(residents(&store, "第一网格"), people);
}

#[test]
fn a_refused_row_leaves_no_household_and_no_resident_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let waiting = changes_waiting(&store);
    let file = rows(&[
        &["地址", "姓名", "身份证号", "性别", "出生日期"],
        // A man's ID number with 女 beside it.
        &["四号", "赵六", &id_number("19700101", 11), "女", ""],
        // Neither an ID number nor gender and birth date.
        &["五号", "钱七", "", "", ""],
        &["六号", "孙八", &id_number("19700101", 13), "男", "1970-01-02"],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "bad.csv", &file);
    assert_eq!(code, 3, "{report}");
    assert_eq!(bad_rows(&report).iter().map(|b| b.0).collect::<Vec<_>>(), [2, 3, 4], "{report}");
    assert_eq!((report["residents_added"].as_u64(), report["households_added"].as_u64()), (Some(0), Some(0)));
    assert!(addresses(&store).is_empty(), "{:?}", addresses(&store));
    assert_eq!(changes_waiting(&store), waiting, "nothing was written");

    // The household a good row creates is there, and the bad row's person is not in it.
    let file = rows(&[
        &["地址", "姓名", "身份证号", "性别"],
        &["四号", "赵六", &id_number("19700101", 11), "女"],
        &["四号", "赵小六", &id_number("19950101", 15), "男"],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "half.csv", &file);
    assert_eq!(code, 3, "{report}");
    assert_eq!(addresses(&store), ["四号"]);
    let names: Vec<String> =
        residents(&store, "第一网格").iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["赵小六"]);
}

#[test]
fn two_residents_with_one_name_and_two_id_numbers_are_two_people() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let (father, son) = (id_number("19600101", 11), id_number("19850101", 13));
    let file = rows(&[
        &["地址", "姓名", "身份证号", "与户主关系"],
        &["一组1号", "王伟", &father, "户主"],
        &["一组1号", "王伟", &son, "子"],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "wang.csv", &file);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["residents_added"], 2, "{report}");
    let people = residents(&store, "第一网格");
    let wangs: Vec<(&str, &str)> =
        people.iter().map(|r| (r["id_number"].as_str().unwrap(), r["relation"].as_str().unwrap())).collect();
    assert_eq!(wangs.len(), 2, "{people:?}");
    let (shown_father, shown_son) = (gridbook_core::mask_id_number(&father), gridbook_core::mask_id_number(&son));
    assert!(wangs.contains(&(shown_father.as_str(), "head")) && wangs.contains(&(shown_son.as_str(), "child")));

    // A row without a number still finds the one resident of its household with its name; with
    // two, it cannot say which and changes neither.
    let file = rows(&[&["地址", "姓名", "联系电话"], &["一组1号", "王伟", "13812345678"]]);
    let (_, report) = import_rows(&store, dir.path(), "phones.csv", &file);
    assert_eq!(bad_rows(&report).iter().map(|b| b.0).collect::<Vec<_>>(), [2], "{report}");
    assert!(bad_rows(&report)[0].1.contains("ID number"), "{report}");
    assert_eq!(residents(&store, "第一网格"), people);
    let file = rows(&[
        &["地址", "姓名", "身份证号", "与户主关系"],
        &["一组1号", "王伟", &son, "子"],
        &["一组3号", "李娜", &id_number("19900101", 22), "户主"],
    ]);
    import_rows(&store, dir.path(), "li.csv", &file);
    let file = rows(&[&["地址", "姓名", "联系电话", "与户主关系"], &["一组3号", "李娜", "13900001111", "户主"]]);
    let (code, report) = import_rows(&store, dir.path(), "li-phone.csv", &file);
    assert_eq!((code, report["residents_updated"].as_u64()), (0, Some(1)), "{report}");
}

#[test]
fn a_known_person_at_a_new_address_is_moved_there() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let (zhang, li) = (id_number("19480305", 31), id_number("19500101", 12));
    let file = rows(&[
        &["地址", "姓名", "身份证号", "与户主关系", "联系电话"],
        &["一组1号", "张德顺", &zhang, "户主", "13812345678"],
        &["一组1号", "李秀英", &li, "配偶", ""],
        &["一组2号", "王芳", &id_number("19700101", 22), "户主", ""],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "before.csv", &file);
    assert_eq!(code, 0, "{report}");

    let file = rows(&[
        &["地址", "姓名", "身份证号", "与户主关系", "联系电话"],
        &["一组9号", "张德顺", &zhang, "户主", ""],
        &["一组2号", "李秀英", &li.to_lowercase(), "其他", ""],
    ]);
    let (code, report) = import_rows(&store, dir.path(), "after.csv", &file);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["moves"],
        serde_json::json!([
            { "row": 2, "from": "一组1号", "to": "一组9号" },
            { "row": 3, "from": "一组1号", "to": "一组2号" },
        ])
    );
    assert_eq!(
        (report["residents_added"].as_u64(), report["residents_updated"].as_u64(), report["households_added"].as_u64()),
        (Some(0), Some(0), Some(1)),
        "{report}"
    );
    let people: Vec<Value> = residents(&store, "第一网格").into_iter().filter(|r| r["status"] == "present").collect();
    let at: Vec<(&str, &str)> =
        people.iter().map(|r| (r["name"].as_str().unwrap(), r["address"].as_str().unwrap())).collect();
    assert_eq!(at, [("张德顺", "一组9号"), ("李秀英", "一组2号"), ("王芳", "一组2号")]);
    assert_eq!(people[0]["phone"], "138****5678", "a row without a phone keeps the person's");

    let old = gridbook(&store, &["resident", "list", "--household", "第一网格:一组1号"]);
    let old: Value = serde_json::from_slice(&old.stdout).unwrap();
    let statuses: Vec<&str> = old.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["moved_out", "moved_out"]);
    let actions = |household: &str| -> Vec<String> {
        let out = gridbook(&store, &["history", "household", household]);
        let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
        entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
    };
    assert!(actions("第一网格:一组1号").contains(&"move out resident".to_string()));
    assert!(actions("第一网格:一组9号").contains(&"add resident".to_string()));

    let waiting = changes_waiting(&store);
    let (_, again) = import_rows(&store, dir.path(), "after.csv", &file);
    assert_eq!((again["moves"].clone(), again["residents_unchanged"].as_u64()), (serde_json::json!([]), Some(2)));
    assert_eq!(changes_waiting(&store), waiting);
}

/// One generated row: indices into small pools, so that addresses, names and numbers repeat.
#[derive(Debug, Clone)]
struct Generated {
    address: usize,
    name: usize,
    /// Which number of the pool, if any.
    id_number: Option<usize>,
    /// 0 blank, 1 the number's (or a fixed one), 2 the other.
    gender: usize,
    birth: usize,
    phone: bool,
}

fn generated_row() -> impl Strategy<Value = Generated> {
    (0..3usize, 0..3usize, proptest::option::of(0..6usize), 0..3usize, 0..3usize, any::<bool>()).prop_map(
        |(address, name, id_number, gender, birth, phone)| Generated { address, name, id_number, gender, birth, phone },
    )
}

fn generated_file(rows: &[Generated]) -> Vec<Vec<String>> {
    let mut file = vec![["地址", "姓名", "身份证号", "性别", "出生日期", "联系电话"].map(String::from).to_vec()];
    for (n, r) in rows.iter().enumerate() {
        let (birth, male) = match r.id_number {
            Some(i) => (format!("{:04}{:02}{:02}", 1950 + i * 3, 1 + i % 2, 1 + i), i % 2 == 0),
            None => ("19700101".to_string(), true),
        };
        let number = r.id_number.map(|i| id_number(&birth, 20 + i as u16 * 2 + u16::from(male)));
        let gender = [String::new(), if male { "男" } else { "女" }.into(), if male { "女" } else { "男" }.into()];
        let dates = [String::new(), format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]), "1980-02-02".into()];
        file.push(vec![
            format!("一组{}号", r.address + 1),
            ["王伟", "李娜", "张德顺"][r.name].to_string(),
            number.unwrap_or_default(),
            gender[r.gender].clone(),
            dates[r.birth].clone(),
            if r.phone { format!("1381234{n:04}") } else { String::new() },
        ]);
    }
    file
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever a roster holds, importing it a second time finds every good row as the first left
    /// it and writes nothing.
    #[test]
    fn a_second_import_of_any_roster_changes_nothing(rows in proptest::collection::vec(generated_row(), 1..9)) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = gridbook_core::StoreConfig::new("刘敏", "village-pc");
        config.durability = gridbook_core::Durability::Normal;
        let store = gridbook_core::Store::open(dir.path().join("store"), config).unwrap();
        let grid = store
            .create_grid(gridbook_core::NewGrid { name: "第一网格".into(), village: "幸福村".into(), township: String::new() })
            .unwrap();
        let file = dir.path().join("roster.csv");
        write_csv(&file, &generated_file(&rows));
        let first = gridbook_cli::roster::import(&store, &file, Some(grid.id), false).unwrap();
        let waiting = store.sync_status().unwrap().pending_changes;
        let again = gridbook_cli::roster::import(&store, &file, Some(grid.id), false).unwrap();
        prop_assert_eq!(
            (again.residents_added, again.residents_updated, again.households_added, again.moves.len()),
            (0, 0, 0, 0),
            "{:?}", again
        );
        prop_assert_eq!(again.residents_unchanged, first.residents_added + first.residents_updated + first.residents_unchanged);
        prop_assert_eq!(&again.bad_rows, &first.bad_rows);
        prop_assert_eq!(store.sync_status().unwrap().pending_changes, waiting);
    }
}
