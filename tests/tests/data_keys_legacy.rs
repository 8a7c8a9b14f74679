//! Data keys meeting what came before them and what arrives out of order: a household written in
//! plaintext by an earlier build still reads, the server makes its key when a store asks, and the
//! store seals from then on; a store that receives sealed changes before their key lists none of
//! the household, never its ciphertext, asks for the key, and reads the household and the notes of
//! its visits (in another document) once the key arrives.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, ObjType, ROOT, ScalarValue, transaction::Transactable};
use gridbook_core::sync::SyncOptions;
use gridbook_core::{ChangeSet, DocChanges, HouseholdEdit, HouseholdId, NewHousehold, NewVisit, Store, VisitKind};
use gridbook_e2e::{Device, TestServer, grid};

/// A household as an earlier build wrote it, every field in plaintext, under `store`'s own actor.
fn legacy_household(store: &Store, grid: gridbook_core::GridId) -> (HouseholdId, String, Vec<u8>) {
    let id: HouseholdId = uuid::Uuid::now_v7().to_string().parse().unwrap();
    let mut doc = Automerge::new().with_actor(hex::decode(store.actor()).unwrap().into());
    let mut tx = doc.transaction();
    let record = tx.put_object(ROOT, "household", ObjType::Map).unwrap();
    for (field, value) in [
        ("id", id.to_string()),
        ("grid_id", grid.to_string()),
        ("address", "幸福村二组5号".into()),
        ("head_name", "钱老汉".into()),
        ("notes", "旧版本写的".into()),
        ("status", "active".into()),
    ] {
        tx.put(&record, field, ScalarValue::Str(value.into())).unwrap();
    }
    tx.put(&record, "phone", ScalarValue::Null).unwrap();
    tx.put(&record, "moved_out_at", ScalarValue::Null).unwrap();
    let tags = tx.put_object(&record, "care_tags", ObjType::Map).unwrap();
    tx.put(&tags, "elderly", true).unwrap();
    tx.commit();
    (id, format!("h/{grid}/{id}"), doc.get_last_local_change().unwrap().raw_bytes().to_vec())
}

fn changes_of(store: &Store, doc: &str) -> Vec<Vec<u8>> {
    let set = store.changes_since(&Default::default()).unwrap();
    set.docs.into_iter().filter(|d| d.doc == doc).flat_map(|d| d.changes).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_household_reads_gets_its_key_from_the_server_and_is_sealed_from_then_on() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let phone = Device::new("王芳", "phone-wang");
    let remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();

    let (id, doc, change) = legacy_household(&phone.store, g.id);
    phone
        .store
        .apply_changes(&ChangeSet { docs: vec![DocChanges { doc: doc.clone(), changes: vec![change] }], keys: vec![] })
        .unwrap();
    assert_eq!(phone.store.household(id).unwrap().head_name, "钱老汉", "plaintext of an earlier build reads");
    let request = phone.store.prepare_sync(1 << 20).unwrap().request;
    assert!(request.wants.iter().any(|w| w.id == id.0.into_bytes() && w.make), "the store asks for a key to be made");

    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    let before = changes_of(&phone.store, &doc).len();
    phone.store.edit_household(id, HouseholdEdit { head_name: Some("钱大爷".into()), ..Default::default() }).unwrap();
    let edit = changes_of(&phone.store, &doc).split_off(before).concat();
    assert!(!edit.windows("钱大爷".len()).any(|w| w == "钱大爷".as_bytes()), "sealed under the key the server made");
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();

    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let read = centre.store.household(id).unwrap();
    assert_eq!((read.head_name.as_str(), read.address.as_str()), ("钱大爷", "幸福村二组5号"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_that_arrive_before_their_key_show_once_it_arrives() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = centre
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组7号".into(), head_name: "孙婆婆".into(), ..Default::default() },
        )
        .unwrap();
    let visit = NewVisit {
        kind: VisitKind::Home,
        at: None,
        purposes: vec!["安全".into()],
        notes: "腿脚不便，需送药".into(),
        satisfaction: None,
    };
    centre.store.record_visit(home.id, visit).unwrap();
    centre.store.sync(&server.remote(&server.centre("centre-pc")), &SyncOptions::default()).await.unwrap();

    // The changes reach a phone by another way (a peer, a file) without their keys.
    let phone = Device::new("王芳", "phone-wang");
    let mut set = centre.store.changes_since(&Default::default()).unwrap();
    set.keys.clear();
    phone.store.apply_changes(&set).unwrap();
    assert!(phone.store.household(home.id).is_err(), "a household waiting for its key is not listed");
    let request = phone.store.prepare_sync(1 << 20).unwrap().request;
    assert!(request.wants.iter().any(|w| w.id == home.id.0.into_bytes() && !w.make), "it asks for the key");

    phone.store.sync(&server.remote(&server.grid_member("phone-wang", &[&g])), &SyncOptions::default()).await.unwrap();
    assert_eq!(phone.store.household(home.id).unwrap().head_name, "孙婆婆");
    assert_eq!(phone.store.visits_of(home.id).unwrap()[0].notes, "腿脚不便，需送药");
}
