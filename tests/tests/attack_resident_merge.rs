//! A review finding: only a secretary or the centre merges residents (`Store::merge_residents`
//! refuses on any other store), but the server stored any device's change that set `merged_into`.
//! A grid member's phone, with an automerge change made by hand, could hide a resident from every
//! device's ledger. The server refuses such a household document, alone, as `not_allowed`.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use gridbook_core::DocChanges;
use gridbook_core::sync::wire::{Refusal, SyncRequest};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{NewHousehold, NewResident, Registration, Relation, Resident, Store};
use gridbook_e2e::{Device, TestServer, grid};

fn resident(name: &str) -> NewResident {
    NewResident {
        name: name.into(),
        id_number: None,
        gender: Some(gridbook_core::Gender::Male),
        birth_date: chrono::NaiveDate::from_ymd_opt(1950, 3, 5),
        relation: Relation::Head,
        phone: None,
        registration: Registration::Registered,
        care_tags: Default::default(),
    }
}

/// A change to `other`'s household document, made with automerge under `store`'s own actor over
/// what the store holds of it, that marks `other` as merged into `keep`.
fn merging_change(store: &Store, other: &Resident, keep: &Resident) -> (String, Vec<u8>) {
    let doc_name = format!("h/{}/{}", other.grid_id, other.household_id);
    let set = store.changes_since(&Default::default()).unwrap();
    let changes = set.docs.into_iter().filter(|d| d.doc == doc_name).flat_map(|d| d.changes);
    let mut doc = Automerge::new().with_actor(hex::decode(store.actor()).unwrap().into());
    doc.apply_changes(changes.map(|b| automerge::Change::from_bytes(b).unwrap())).unwrap();
    let (_, record) = doc.get(ROOT, format!("resident:{}", other.id)).unwrap().expect("the resident's record");
    let mut tx = doc.transaction();
    tx.put(&record, "merged_into", ScalarValue::Str(keep.id.to_string().into())).unwrap();
    tx.commit();
    (doc_name, doc.get_last_local_change().unwrap().raw_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_cannot_merge_residents_by_a_crafted_change() {
    let server = TestServer::start().await;
    let secretary = Device::new("刘敏", "village-pc");
    let secretary_remote = server.remote(&server.secretary("village-pc", "幸福村"));
    let g = secretary.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = secretary
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let keep = secretary.store.add_resident(home.id, resident("张三")).unwrap();
    let other = secretary.store.add_resident(home.id, resident("张叁")).unwrap();
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();

    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&g]);
    phone.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    assert!(phone.store.merge_residents(keep.id, other.id).is_err(), "the store itself refuses");

    // The attack: the same fact, written by hand under the phone's actor and signed by its key.
    let (doc, change) = merging_change(&phone.store, &other, &keep);
    let stored = server.change_count().await;
    let mut request = SyncRequest {
        cursor: Vec::new(),
        docs: vec![DocChanges { doc: doc.clone(), changes: vec![change] }],
        ..Default::default()
    };
    phone.store.sign(&mut request).unwrap();
    let reply = server.raw_sync(&token, &phone.store.actor(), &request).await.unwrap();
    assert_eq!(reply.refused, [Refusal { doc, reason: RefusalReason::NotAllowed }]);
    assert_eq!(server.change_count().await, stored, "nothing of the document is stored");

    // The secretary still lists both, and her own merge goes through.
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();
    assert_eq!(secretary.store.resident(other.id).unwrap().merged_into, None);
    secretary.store.merge_residents(keep.id, other.id).unwrap();
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();
    phone.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    assert_eq!(phone.store.resident(other.id).unwrap().merged_into, Some(keep.id));
}
