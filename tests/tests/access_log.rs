//! The access log end to end: a reveal on the secretary's store syncs to the district's server,
//! where the audit lists it under the enrolled device and holder whose change wrote it (not the
//! names the store was opened with), and reaches the grid's other devices; a change made by hand
//! that deletes or replaces an entry is refused, alone, and the entry stays.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use chrono::Duration;
use gridbook_core::sync::wire::{Refusal, SyncRequest};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{
    AccessAction, DocChanges, Grid, NewHousehold, NewResident, Registration, Relation, Resident, Store,
};
use gridbook_e2e::{Device, TestServer, grid, id_number};
use gridbook_server::access_log::AuditFilter;

/// The secretary of 幸福村 (its store opened as "某人" on "pc"; the centre gave the computer to
/// 刘敏 as village-pc), enrolled, with a grid, a household and one resident.
async fn secretary(server: &TestServer) -> (Device, String, Grid, Resident) {
    let device = Device::new("某人", "pc");
    let token = server.secretary_held_by("village-pc", "刘敏", "幸福村");
    device.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    let g = device.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = device
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组3号".into(), head_name: "张德顺".into(), ..Default::default() },
        )
        .unwrap();
    let elder = device
        .store
        .add_resident(
            home.id,
            NewResident {
                name: "张德顺".into(),
                id_number: Some(id_number("370911", "19480305", 163)),
                gender: None,
                birth_date: None,
                relation: Relation::Head,
                phone: Some("13812341111".into()),
                registration: Registration::Registered,
                care_tags: Default::default(),
            },
        )
        .unwrap();
    (device, token, g, elder)
}

fn all() -> AuditFilter {
    AuditFilter {
        device: None,
        grid: None,
        resident: None,
        since: None,
        until: None,
        timezone: gridbook_core::Tz::Asia__Shanghai,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_syncs_and_the_audit_names_the_enrolled_device_that_made_it() {
    let server = TestServer::start().await;
    let (village, token, g, elder) = secretary(&server).await;
    let full = village.store.reveal_resident(elder.id, "办理高龄补贴").unwrap();
    assert!(full.id_number.unwrap().starts_with("370911"));
    village.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();

    let audit = server.admin().audit(&all()).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    let entry = &audit[0];
    assert_eq!((entry.device.as_str(), entry.holder.as_str()), ("village-pc", "刘敏"), "the registry's, verified");
    assert_eq!((entry.grid.as_str(), entry.grid_id.clone()), ("第一网格", g.id.to_string()));
    assert_eq!((entry.action, entry.reason.as_str()), (AccessAction::RevealResident, "办理高龄补贴"));
    assert_eq!(entry.records, [elder.id.to_string()]);
    assert_eq!(entry.fields, ["id_number", "phone"]);

    let today = entry.at.with_timezone(&gridbook_core::Tz::Asia__Shanghai).date_naive();
    let found = |filter: AuditFilter| server.admin().audit(&filter).unwrap().len();
    assert_eq!(found(AuditFilter { device: Some("village-pc".into()), ..all() }), 1);
    assert_eq!(found(AuditFilter { device: Some("pc".into()), ..all() }), 0, "not the name the store typed");
    assert_eq!(found(AuditFilter { grid: Some("第一网格".into()), ..all() }), 1);
    assert_eq!(found(AuditFilter { grid: Some(g.id.to_string()), ..all() }), 1);
    assert_eq!(found(AuditFilter { grid: Some("第二网格".into()), ..all() }), 0);
    assert_eq!(found(AuditFilter { resident: Some(elder.id.to_string()), ..all() }), 1);
    assert_eq!(found(AuditFilter { resident: Some(uuid::Uuid::now_v7().to_string()), ..all() }), 0);
    assert_eq!(found(AuditFilter { since: Some(today), until: Some(today), ..all() }), 1);
    assert_eq!(found(AuditFilter { until: Some(today - Duration::days(1)), ..all() }), 0);
    assert_eq!(found(AuditFilter { since: Some(today + Duration::days(1)), ..all() }), 0);

    // The grid's member receives the log with the grid, its author verified by the server.
    let member = Device::new("王芳", "phone-wang");
    member.store.sync(&server.remote(&server.grid_member("phone-wang", &[&g])), &SyncOptions::default()).await.unwrap();
    let received = member.store.access_log().unwrap();
    assert_eq!(received.len(), 1);
    assert!(received[0].verified);
    assert_eq!((received[0].by.as_str(), received[0].device.as_str()), ("刘敏", "village-pc"));
    // And the secretary's own store names its enrolment, not the names it was opened with.
    let own = village.store.access_log().unwrap();
    assert_eq!((own[0].by.as_str(), own[0].device.as_str(), own[0].verified), ("刘敏", "village-pc", true));
}

/// The access-log document `store` holds, its name and an automerge document of it under the
/// store's own actor.
fn log_document(store: &Store) -> (String, Automerge) {
    let set = store.changes_since(&Default::default()).unwrap();
    let log = set.docs.into_iter().find(|d| d.doc.starts_with("a/")).expect("an access log");
    let mut doc = Automerge::new().with_actor(hex::decode(store.actor()).unwrap().into());
    doc.apply_changes(log.changes.into_iter().map(|b| automerge::Change::from_bytes(b).unwrap())).unwrap();
    (log.doc, doc)
}

/// Sends `change` to `doc` as `store`'s own, signed as its sync would sign it; returns the refusals.
async fn send(server: &TestServer, token: &str, store: &Store, doc: &str, change: Vec<u8>) -> Vec<Refusal> {
    let mut request = SyncRequest {
        cursor: Vec::new(),
        docs: vec![DocChanges { doc: doc.to_string(), changes: vec![change] }],
        ..Default::default()
    };
    store.sign(&mut request).unwrap();
    server.raw_sync(token, &store.actor(), &request).await.unwrap().refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_deletes_or_replaces_an_entry_is_refused_and_the_entry_stays() {
    let server = TestServer::start().await;
    let (village, token, _, elder) = secretary(&server).await;
    village.store.reveal_resident(elder.id, "查看").unwrap();
    village.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    let (name, doc) = log_document(&village.store);
    let entry = doc.keys(ROOT).next().unwrap();

    // The secretary regrets the reveal and edits the log by hand: deleting the entry, or putting
    // an innocent one over it.
    // A fork gets an actor of its own: these are the secretary's store's own changes.
    let as_store = || doc.fork().with_actor(hex::decode(village.store.actor()).unwrap().into());
    let mut deleting = as_store();
    let mut tx = deleting.transaction();
    tx.delete(ROOT, entry.as_str()).unwrap();
    tx.commit();
    let deleted = deleting.get_last_local_change().unwrap().raw_bytes().to_vec();
    let refused = send(&server, &token, &village.store, &name, deleted).await;
    assert_eq!(refused, [Refusal { doc: name.clone(), reason: RefusalReason::NotAllowed }]);

    let mut replacing = as_store();
    let (record, _) = replacing.get(ROOT, entry.as_str()).unwrap().unwrap();
    let json = record.into_string().expect("an entry is a string");
    let mut tx = replacing.transaction();
    tx.put(ROOT, entry.as_str(), ScalarValue::Str(json.replace("查看", "误操作").into())).unwrap();
    tx.commit();
    let replaced = replacing.get_last_local_change().unwrap().raw_bytes().to_vec();
    let refused = send(&server, &token, &village.store, &name, replaced).await;
    assert_eq!(refused, [Refusal { doc: name.clone(), reason: RefusalReason::NotAllowed }]);

    let audit = server.admin().audit(&all()).unwrap();
    assert_eq!(audit.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["查看"], "the entry stands");

    // A department sees no ledger and writes no log: its log document is outside its scope.
    let department = Device::new("赵工", "dept-pc");
    let dept_token = server.department("dept-pc", "市政维修");
    department.store.sync(&server.remote(&dept_token), &SyncOptions::default()).await.unwrap();
    let mut own = Automerge::new().with_actor(hex::decode(department.store.actor()).unwrap().into());
    let mut tx = own.transaction();
    tx.put(ROOT, "access:0190a000-0000-7000-8000-000000000001", "{}").unwrap();
    tx.commit();
    let written = own.get_last_local_change().unwrap().raw_bytes().to_vec();
    let refused = send(&server, &dept_token, &department.store, &name, written).await;
    assert_eq!(refused, [Refusal { doc: name, reason: RefusalReason::OutsideScope }]);
}
