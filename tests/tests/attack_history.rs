//! Finding 6's second half: a well-formed change that would leave its document unloadable. A change
//! that reuses its author's sequence number in a document (a buggy client, or a device writing under
//! another's actor) passed every check the server made on the change alone; once stored, every
//! store that received both failed with "duplicate seq" on that document from then on.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use gridbook_core::sync::wire::{Refusal, SyncRequest};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{DocChanges, HouseholdEdit, NewHousehold, Store};
use gridbook_e2e::{Device, TestServer, grid};

/// A second change at the sequence number of `store`'s last change to `doc`: made with automerge by
/// the same actor over the document as it stood before that change, editing something else.
fn rival_of_last_change(store: &Store, doc: &str) -> Vec<u8> {
    let set = store.changes_since(&Default::default()).unwrap();
    let mut changes: Vec<automerge::Change> = set
        .docs
        .into_iter()
        .filter(|d| d.doc == doc)
        .flat_map(|d| d.changes)
        .map(|b| automerge::Change::from_bytes(b).unwrap())
        .collect();
    let last = changes.pop().unwrap();
    let mut rebuilt = Automerge::new().with_actor(last.actor_id().clone());
    rebuilt.apply_changes(changes).unwrap();
    let key = rebuilt.keys(ROOT).find(|k| k.starts_with("household")).expect("the household record");
    let (_, record) = rebuilt.get(ROOT, key.as_str()).unwrap().unwrap();
    let mut tx = rebuilt.transaction();
    tx.put(&record, "address", ScalarValue::Str("另一个地址".into())).unwrap();
    tx.commit();
    let rival = rebuilt.get_last_local_change().unwrap();
    assert_eq!((rival.actor_id(), rival.seq()), (last.actor_id(), last.seq()), "the same author and number");
    assert_ne!(rival.hash(), last.hash());
    rival.raw_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reusing_its_authors_sequence_number_is_refused_and_the_document_stays_loadable() {
    let server = TestServer::start().await;
    let phone = Device::new("王芳", "phone-wang");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = server.grid_member("phone-wang", &[&g]);
    let remote = server.remote(&token);
    let home = phone
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let edit = HouseholdEdit { address: Some("幸福村一组2号".into()), ..Default::default() };
    phone.store.edit_household(home.id, edit).unwrap();
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();

    let doc = format!("h/{}/{}", g.id, home.id);
    let mut request = SyncRequest {
        cursor: Vec::new(),
        docs: vec![DocChanges { doc: doc.clone(), changes: vec![rival_of_last_change(&phone.store, &doc)] }],
        ..Default::default()
    };
    // Signed by the phone itself, as a buggy app of its own would send it.
    phone.store.sign(&mut request).unwrap();
    let reply = server.raw_sync(&token, &phone.store.actor(), &request).await.unwrap();
    assert_eq!(reply.refused, [Refusal { doc: doc.clone(), reason: RefusalReason::Malformed }]);

    // A colleague receives the household and loads it; the phone keeps syncing.
    let colleague = Device::new("李强", "phone-li");
    colleague
        .store
        .sync(&server.remote(&server.grid_member("phone-li", &[&g])), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(colleague.store.household(home.id).unwrap().address, "幸福村一组2号");
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
}
