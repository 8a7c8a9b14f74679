//! Finding 1 of the trust review, as an attacker would try it: scope must come from the district's
//! grid registry, never from what a document says. A grid member's phone rewrites its grid record
//! to name another village, with an automerge change made by hand; before the registry, the server
//! read the grid's village from that change, and the other village's secretary received the whole
//! grid (residents' ID numbers included) while its own secretary was refused from then on.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::{Automerge, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use gridbook_core::DocChanges;
use gridbook_core::sync::wire::{Refusal, SyncRequest};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{Grid, NewHousehold, NewResident, Page, Registration, Relation, Store};
use gridbook_e2e::{Device, TestServer, grid, id_number};

/// The changes `store` holds of document `doc`, as raw automerge changes.
fn changes_of(store: &Store, doc: &str) -> Vec<Vec<u8>> {
    let set = store.changes_since(&Default::default()).unwrap();
    set.docs.into_iter().filter(|d| d.doc == doc).flat_map(|d| d.changes).collect()
}

/// A change to grid document `g`, made with automerge by `actor` over what `store` holds of it,
/// that sets the grid record's `village`.
fn moving_change(store: &Store, g: &Grid, village: &str) -> Vec<u8> {
    let doc_name = format!("g/{}", g.id);
    let mut doc = Automerge::new().with_actor(hex::decode(store.actor()).unwrap().into());
    let changes = changes_of(store, &doc_name).into_iter().map(|b| automerge::Change::from_bytes(b).unwrap());
    doc.apply_changes(changes).unwrap();
    let (_, record) = doc.get(ROOT, "grid").unwrap().expect("the grid record");
    let mut tx = doc.transaction();
    tx.put(&record, "village", ScalarValue::Str(village.into())).unwrap();
    tx.commit();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// A new grid's document, made with automerge alone: a record naming `village`.
fn new_grid_change(actor: &str, village: &str) -> (String, Vec<u8>) {
    let id = uuid::Uuid::now_v7().to_string();
    let mut doc = Automerge::new().with_actor(hex::decode(actor).unwrap().into());
    let mut tx = doc.transaction();
    let record = tx.put_object(ROOT, "grid", automerge::ObjType::Map).unwrap();
    for (field, value) in [("id", id.as_str()), ("name", "新网格"), ("village", village), ("township", "城关街道")]
    {
        tx.put(&record, field, ScalarValue::Str(value.into())).unwrap();
    }
    tx.put(&record, "created_at", ScalarValue::Int(1_764_000_000_000)).unwrap();
    tx.commit();
    (format!("g/{id}"), doc.get_last_local_change().unwrap().raw_bytes().to_vec())
}

/// Sends `doc`'s `change` as `token`'s device from `store`, signed by it as its own sync would
/// be, and asserts the server refused the document, alone, with `reason`.
async fn refused(server: &TestServer, token: &str, store: &Store, doc: String, change: Vec<u8>, reason: RefusalReason) {
    let mut request = SyncRequest {
        cursor: Vec::new(),
        docs: vec![DocChanges { doc: doc.clone(), changes: vec![change] }],
        ..Default::default()
    };
    store.sign(&mut request).unwrap();
    let reply = server.raw_sync(token, &store.actor(), &request).await.unwrap();
    assert_eq!(reply.refused, [Refusal { doc, reason }]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_cannot_move_its_grid_to_another_village() {
    let server = TestServer::start().await;
    // The village secretary makes the grid; the registry takes it in her village.
    let secretary = Device::new("刘敏", "village-pc");
    let secretary_remote = server.remote(&server.secretary("village-pc", "幸福村"));
    let g = secretary.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();

    // Its grid member works in it: a household with a resident's ID number.
    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&g]);
    let phone_remote = server.remote(&token);
    phone.store.sync(&phone_remote, &SyncOptions::default()).await.unwrap();
    let home = phone
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let resident = NewResident {
        name: "张三".into(),
        id_number: Some(id_number("330106", "19480305", 11)),
        gender: None,
        birth_date: None,
        relation: Relation::Head,
        phone: None,
        registration: Registration::Registered,
        care_tags: Default::default(),
    };
    phone.store.add_resident(home.id, resident).unwrap();
    phone.store.sync(&phone_remote, &SyncOptions::default()).await.unwrap();

    // The attack: one ordinary change to the grid record, naming the other village.
    let moving = moving_change(&phone.store, &g, "光明村");
    refused(&server, &token, &phone.store, format!("g/{}", g.id), moving, RefusalReason::NotAllowed).await;

    // The other village's secretary receives nothing of the grid; its own keeps it, and the grid
    // member keeps syncing.
    let other = Device::new("赵红", "other-pc");
    other.store.sync(&server.remote(&server.secretary("other-pc", "光明村")), &SyncOptions::default()).await.unwrap();
    assert!(other.store.grid(g.id).is_err(), "the grid stays out of the other village");
    assert!(other.store.households(g.id, true, Page::first(10)).unwrap_or_default().is_empty());
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();
    assert_eq!(secretary.store.grid(g.id).unwrap().village, "幸福村");
    assert_eq!(secretary.store.household(home.id).unwrap().address, "幸福村一组1号");
    phone.store.sync(&phone_remote, &SyncOptions::default()).await.unwrap();
    let registry = server.admin().grids().unwrap();
    assert_eq!(registry.iter().find(|e| e.id == g.id.to_string()).map(|e| e.village.as_str()), Some("幸福村"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_centre_or_the_villages_own_secretary_registers_a_grid() {
    let server = TestServer::start().await;
    let secretary = Device::new("刘敏", "village-pc");
    let g = secretary.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let secretary_token = server.secretary("village-pc", "幸福村");
    secretary.store.sync(&server.remote(&secretary_token), &SyncOptions::default()).await.unwrap();

    // A grid member makes a grid of its own, and a secretary one of another village: both refused.
    let phone = Device::new("王芳", "phone-wang");
    let member_token = server.grid_member("phone-wang", &[&g]);
    let (doc, change) = new_grid_change(&phone.store.actor(), "幸福村");
    refused(&server, &member_token, &phone.store, doc, change, RefusalReason::NotAllowed).await;
    let other = Device::new("赵红", "other-pc");
    let other_token = server.secretary("other-pc", "光明村");
    let (doc, change) = new_grid_change(&other.store.actor(), "幸福村");
    refused(&server, &other_token, &other.store, doc, change, RefusalReason::NotAllowed).await;
    // Nor may that secretary claim the registered grid by rewriting its record: not in its scope.
    let claim = moving_change(&secretary.store, &g, "光明村");
    refused(&server, &other_token, &other.store, format!("g/{}", g.id), claim, RefusalReason::OutsideScope).await;
    assert_eq!(server.admin().grids().unwrap().len(), 1, "only the first grid is registered");

    // The centre registers a grid on the server; the village's secretary receives it.
    let registered = server
        .admin()
        .add_grid(gridbook_core::NewGrid {
            name: "第二网格".into(), village: "幸福村".into(), township: String::new()
        })
        .unwrap();
    secretary.store.sync(&server.remote(&secretary_token), &SyncOptions::default()).await.unwrap();
    let names: Vec<String> = secretary.store.grids().unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["第一网格", "第二网格"], "registered as {}", registered.id);
    other.store.sync(&server.remote(&other_token), &SyncOptions::default()).await.unwrap();
    assert!(other.store.grids().unwrap().is_empty(), "another village receives none of them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_grid_members_store_refuses_to_create_a_grid_itself() {
    let server = TestServer::start().await;
    let phone = Device::new("王芳", "phone-wang");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    phone.store.sync(&remote, &SyncOptions::default()).await.unwrap();
    // Enrolled, the store knows its role: a new grid would only be refused by the server.
    let refused = phone.store.create_grid(grid("第二网格", "幸福村"));
    assert!(matches!(refused, Err(gridbook_core::Error::Forbidden(_))), "{refused:?}");
    assert_eq!(phone.store.grids().unwrap().len(), 1, "nothing was written");
}
