//! `gridbook-server erasures` as the district's data protection officer uses it: the erasures two
//! villages' secretaries asked for, by the enrolled device that asked, narrowed by grid and day, as
//! a table or JSON.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{Harness, Phone, grid};
use gridbook_core::sync::wire::{EraseRequest, ErasedKind, SyncRequest};
use gridbook_core::{HouseholdId, NewHousehold};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gridbook-server");

/// A grid of `village` with one household, synced by its secretary, then erased for `reason`.
async fn erased_household(h: &Harness, device: &str, village: &str, reason: &str) -> HouseholdId {
    let (pc, token) = (Phone::new("某人", device), h.secretary(device, village));
    let g = pc.store.create_grid(grid(&format!("{village}第一网格"), village)).unwrap();
    let home = pc
        .store
        .add_household(g.id, NewHousehold { address: "一组1号".into(), head_name: "张三".into(), ..Default::default() })
        .unwrap();
    h.sync(&token, &pc).await.unwrap();
    let erase = EraseRequest {
        id: home.id.0.into_bytes(),
        doc: format!("h/{}/{}", g.id, home.id),
        kind: ErasedKind::Household,
        reason: reason.into(),
    };
    let request = SyncRequest { erase: vec![erase], ..Default::default() };
    let answer = h.exchange(&token, &pc.store.actor(), &request).await.unwrap();
    assert!(answer.erase_refused.is_empty());
    home.id
}

fn erasures(data: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN).args(["erasures", "--data", data, "--json"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn reasons(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erasures_are_listed_by_the_device_that_asked_and_filtered() {
    let h = Harness::start().await;
    let home = erased_household(&h, "xingfu-pc", "幸福村", "本人申请").await;
    erased_household(&h, "guangming-pc", "光明村", "迁出").await;
    let data = h.data_dir().to_str().unwrap().to_string();

    let all = erasures(&data, &[]);
    assert_eq!(reasons(&all), ["本人申请", "迁出"], "oldest first");
    let first = &all[0];
    assert_eq!((first["seq"].as_u64(), first["kind"].as_str()), (Some(1), Some("household")));
    assert_eq!((first["device"].as_str(), first["record"].as_str()), (Some("xingfu-pc"), Some(&*home.to_string())));
    assert_eq!(reasons(&erasures(&data, &["--grid", "光明村第一网格"])), ["迁出"]);
    let today = chrono::Utc::now().with_timezone(&gridbook_core::Tz::Asia__Shanghai).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    assert_eq!(reasons(&erasures(&data, &["--since", &day(today)])).len(), 2);
    assert!(reasons(&erasures(&data, &["--since", &day(today + chrono::Duration::days(1))])).is_empty());

    let table = Command::new(BIN).args(["erasures", "--data", &data, "--grid", "幸福村第一网格"]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("xingfu-pc") && table.contains("本人申请") && !table.contains("迁出"), "{table}");
}
