//! `gridbook-server audit` as the district's data protection officer uses it: every reveal two
//! villages' secretaries synced, listed by the enrolled device and holder, narrowed by device,
//! grid, resident and days, as a table or JSON.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{Harness, Phone, grid};
use gridbook_core::{NewHousehold, NewResident, Registration, Relation, ResidentId};
use gridbook_server::{NewDevice, Role};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gridbook-server");

/// A secretary's computer given to `holder`, its token.
fn secretary(h: &Harness, name: &str, holder: &str, village: &str) -> String {
    let new = NewDevice {
        name: name.into(),
        role: Role::Secretary,
        grids: vec![],
        village: Some(village.into()),
        department: None,
        holder: holder.into(),
    };
    h.server.add_device(new).unwrap().1
}

/// A grid of `village` on `phone` with one resident, whose full numbers are revealed for `reason`.
fn reveal(phone: &Phone, grid_name: &str, village: &str, reason: &str) -> ResidentId {
    let g = phone.store.create_grid(grid(grid_name, village)).unwrap();
    let home = phone
        .store
        .add_household(g.id, NewHousehold { address: "一组1号".into(), head_name: "张三".into(), ..Default::default() })
        .unwrap();
    let new = NewResident {
        name: "张三".into(),
        id_number: None,
        gender: Some(gridbook_core::Gender::Male),
        birth_date: chrono::NaiveDate::from_ymd_opt(1950, 1, 1),
        relation: Relation::Head,
        phone: Some("13812341111".into()),
        registration: Registration::Registered,
        care_tags: Default::default(),
    };
    let r = phone.store.add_resident(home.id, new).unwrap();
    phone.store.reveal_resident(r.id, reason).unwrap();
    r.id
}

fn audit(data: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN).args(["audit", "--data", data, "--json"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn reasons(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_lists_every_reveal_by_its_enrolled_device_and_filters_it() {
    let h = Harness::start().await;
    let (xingfu, guangming) = (Phone::new("某人", "pc"), Phone::new("某人", "pc"));
    let (xingfu_token, guangming_token) =
        (secretary(&h, "xingfu-pc", "刘敏", "幸福村"), secretary(&h, "guangming-pc", "陈静", "光明村"));
    let zhang = reveal(&xingfu, "幸福村第一网格", "幸福村", "办理高龄补贴");
    reveal(&guangming, "光明村第一网格", "光明村", "核对低保");
    h.sync(&xingfu_token, &xingfu).await.unwrap();
    h.sync(&guangming_token, &guangming).await.unwrap();
    let data = h.data_dir().to_str().unwrap().to_string();

    let all = audit(&data, &[]);
    assert_eq!(reasons(&all), ["办理高龄补贴", "核对低保"], "oldest first");
    let first = &all[0];
    assert_eq!((first["device"].as_str(), first["holder"].as_str()), (Some("xingfu-pc"), Some("刘敏")));
    assert_eq!((first["grid"].as_str(), first["action"].as_str()), (Some("幸福村第一网格"), Some("reveal_resident")));
    assert_eq!(first["records"], serde_json::json!([zhang.to_string()]));
    assert_eq!(first["fields"], serde_json::json!(["id_number", "phone"]));

    assert_eq!(reasons(&audit(&data, &["--device", "guangming-pc"])), ["核对低保"]);
    assert_eq!(reasons(&audit(&data, &["--device", "pc"])), Vec::<&str>::new(), "not what a store calls itself");
    assert_eq!(reasons(&audit(&data, &["--grid", "幸福村第一网格"])), ["办理高龄补贴"]);
    assert_eq!(reasons(&audit(&data, &["--resident", &zhang.to_string()])), ["办理高龄补贴"]);
    let today = chrono::Utc::now().with_timezone(&gridbook_core::Tz::Asia__Shanghai).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    assert_eq!(reasons(&audit(&data, &["--since", &day(today), "--until", &day(today)])).len(), 2);
    assert!(reasons(&audit(&data, &["--since", &day(today + chrono::Duration::days(1))])).is_empty());
    assert!(reasons(&audit(&data, &["--until", &day(today - chrono::Duration::days(1))])).is_empty());

    let table = Command::new(BIN).args(["audit", "--data", &data, "--grid", "光明村第一网格"]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("guangming-pc") && table.contains("陈静") && table.contains("核对低保"), "{table}");
    assert!(!table.contains("刘敏"), "{table}");
    let bad = Command::new(BIN).args(["audit", "--data", &data, "--since", "昨天"]).output().unwrap();
    assert!(!bad.status.success(), "a day is written YYYY-MM-DD");
}
