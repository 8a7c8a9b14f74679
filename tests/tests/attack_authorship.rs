//! Findings 2 and 3: writing in another device's name. A device uploads a change made under the
//! centre's actor (every change a device receives names its author's actor), as if relaying it for
//! the centre; whoever saw a phone's token sends changes under the phone's own actor; and a phone
//! whose user typed another person and device as its author. Authorship comes from the server's
//! enrolment, not from what a change claims: a store's own changes are stored only under its
//! signature, a relayed change only under its author's, and history names the enrolled device and
//! holder.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, Change, ROOT, ScalarValue, transaction::Transactable};
use ed25519_dalek::{Signer, SigningKey};
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::{Proof, SyncRequest, Version, enrolment_statement};
use gridbook_core::{DocChanges, Error, HouseholdEdit, NewHousehold, NewVisit, Store, StoreConfig, VisitKind};
use gridbook_e2e::{Device, TestServer, forged_change, grid};

/// The centre's next change to `doc`, made with automerge under the centre's actor: what a rogue
/// device holding the centre's earlier changes can make.
fn in_the_centres_name(centre: &Store, doc: &str) -> Vec<u8> {
    let set = centre.changes_since(&Default::default()).unwrap();
    let changes: Vec<Change> = set
        .docs
        .into_iter()
        .filter(|d| d.doc == doc)
        .flat_map(|d| d.changes)
        .map(|b| Change::from_bytes(b).unwrap())
        .collect();
    let actor = automerge::ActorId::from(hex::decode(centre.actor()).unwrap());
    let mut forged = Automerge::new().with_actor(actor);
    forged.apply_changes(changes).unwrap();
    let mut tx = forged.transaction();
    tx.put(ROOT, "forged", ScalarValue::Str("由中心批准".into())).unwrap();
    tx.commit();
    forged.get_last_local_change().unwrap().raw_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_in_the_centres_name_is_not_stored_and_the_centre_keeps_syncing() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = centre
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let centre_remote = server.remote(&server.centre("centre-pc"));
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let doc = format!("h/{}/{}", g.id, home.id);
    let forged = in_the_centres_name(&centre.store, &doc);
    let hash = gridbook_core::sync::wire::change_hash(&forged).unwrap();

    // The rogue is an enrolled grid member of the grid, with a key of its own.
    let rogue_token = server.grid_member("phone-x", &[&g]);
    let key = SigningKey::from_bytes(&rand::random());
    let rogue_actor = uuid::Uuid::now_v7().as_bytes().to_vec();
    let public = key.verifying_key().to_bytes();
    server
        .raw_enrol(
            &rogue_token,
            &rogue_actor,
            &public,
            &key.sign(&enrolment_statement(&rogue_actor, &public)).to_bytes(),
        )
        .await;
    let centre_actor = hex::decode(centre.store.actor()).unwrap();

    let stored = server.change_count().await;
    let docs = vec![DocChanges { doc: doc.clone(), changes: vec![forged] }];
    for (version, proofs) in [
        // As a relay with no proof, in this version and the previous one.
        (Version::V5, vec![]),
        (Version::V4, vec![]),
        // Signed by the rogue, naming the centre as the author.
        (Version::V5, vec![Proof::sign(&key, &centre_actor, [hash])]),
        // Signed by the rogue as its own batch.
        (Version::V5, vec![Proof::sign(&key, &rogue_actor, [hash])]),
    ] {
        let request = SyncRequest { cursor: Vec::new(), docs: docs.clone(), proofs, ..Default::default() };
        let body = gridbook_core::sync::wire::compress(&request.encode_as(version));
        server.raw_body_as(&rogue_token, &hex::encode(&rogue_actor), &body).await.unwrap();
        assert_eq!(server.change_count().await, stored, "nothing stored ({version:?})");
    }

    // The centre's own next change to that household goes through, and every store loads it.
    let edit = HouseholdEdit { address: Some("幸福村一组2号".into()), ..Default::default() };
    centre.store.edit_household(home.id, edit).unwrap();
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let member = Device::new("王芳", "phone-wang");
    member.store.sync(&server.remote(&server.grid_member("phone-wang", &[&g])), &SyncOptions::default()).await.unwrap();
    assert_eq!(member.store.household(home.id).unwrap().address, "幸福村一组2号");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stores_own_changes_are_stored_only_under_its_signature() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let centre_remote = server.remote(&server.centre("centre-pc"));
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&g]);
    let remote = server.remote(&token);
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    let home = phone
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    let doc = format!("h/{}/{home}", g.id, home = home.id);

    // Whoever saw the token (a proxy's log, a copied configuration) but holds no key of the phone's.
    let forged = forged_change(&phone.store, &doc, "forged");
    let hash = gridbook_core::sync::wire::change_hash(&forged).unwrap();
    let actor = hex::decode(phone.store.actor()).unwrap();
    let stranger = SigningKey::from_bytes(&rand::random());
    let docs = vec![DocChanges { doc: doc.clone(), changes: vec![forged.clone()] }];
    let stored = server.change_count().await;
    for (what, signed) in [
        ("unsigned", None),
        ("signed by another key", Some(Proof::sign(&stranger, &actor, [hash]).signature)),
        ("signed over other changes", Some(Proof::sign(&stranger, &actor, [[7; 32]]).signature)),
    ] {
        let request = SyncRequest { docs: docs.clone(), signed, ..SyncRequest::default() };
        let result = server.raw_sync(&token, &phone.store.actor(), &request).await;
        assert!(matches!(&result, Err(Error::Forbidden(m)) if m.contains("signed")), "{what}: got {result:?}");
        assert_eq!(server.change_count().await, stored, "{what}: nothing stored");
    }

    // The phone's own request, with a change slipped in beside its signed ones, is refused whole.
    let edit = HouseholdEdit { address: Some("幸福村一组2号".into()), ..Default::default() };
    phone.store.edit_household(home.id, edit).unwrap();
    let mut prepared = phone.store.prepare_sync(1 << 20).unwrap().request;
    assert!(prepared.signed.is_some());
    let slipped = forged_change(&phone.store, &doc, "slipped");
    prepared.docs.push(DocChanges { doc: doc.clone(), changes: vec![slipped] });
    let result = server.raw_sync(&token, &phone.store.actor(), &prepared).await;
    assert!(matches!(&result, Err(Error::Forbidden(_))), "got {result:?}");
    assert_eq!(server.change_count().await, stored);

    // The phone's own sync, signed, goes through; every store sees its edit and none of the forgeries.
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    assert_eq!(server.change_count().await, stored + 1);
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    assert_eq!(centre.store.household(home.id).unwrap().address, "幸福村一组2号");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_names_the_enrolled_device_and_holder_not_what_a_change_claims() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let centre_remote = server.remote(&server.centre("centre-pc"));
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();

    // Phone B's user types another person and another phone as the author.
    let dir = tempfile::tempdir().unwrap();
    let liar = Store::open(dir.path(), StoreConfig::new("王芳", "phone-a")).unwrap();
    let token = server.grid_member_held_by("phone-b", "李强", &[&g]);
    let remote = server.remote(&token);
    liar.sync(&remote, &SyncOptions::default()).await.unwrap();
    let home = liar
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组9号".into(), head_name: "赵四".into(), ..Default::default() },
        )
        .unwrap();
    liar.sync(&remote, &SyncOptions::default()).await.unwrap();

    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    let history = centre.store.household_history(home.id).unwrap();
    assert!(!history.is_empty());
    for entry in &history {
        assert!(entry.verified, "{entry:?}");
        assert_eq!((entry.by.as_str(), entry.device.as_str()), ("李强", "phone-b"));
    }
    // Its own history says the same, from its certificate.
    let own = liar.household_history(home.id).unwrap();
    assert!(own.iter().all(|e| e.verified && e.by == "李强" && e.device == "phone-b"), "{own:?}");
    // And so do its records, in this session and the next, whatever the app says: once enrolled,
    // the typed names are gone.
    let visit =
        NewVisit { kind: VisitKind::Home, at: None, purposes: vec![], notes: String::new(), satisfaction: None };
    assert_eq!(liar.record_visit(home.id, visit.clone()).unwrap().by, "李强");
    drop(liar);
    let reopened = Store::open(dir.path(), StoreConfig::new("王芳", "phone-a")).unwrap();
    assert_eq!(reopened.record_visit(home.id, visit).unwrap().by, "李强");
}
