//! Issue 17 part 3, the server's side: erasure (wire version 8). Only the centre or a village's
//! secretary, by their enrolled role and scope, may erase a record; an erasure destroys the
//! record's key on the server for good, and the server refuses whatever would write the erased
//! record again: its key, plaintext into its record, its record brought back, any change to an
//! erased household. Requests are crafted here as a store would send them; the store's own side is
//! not used.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId, ROOT, ReadDoc, ScalarValue};
use gridbook_core::sync::wire::{
    EraseRefusal, EraseRequest, ErasedKind, KeyRefusal, KeyWant, Refusal, SyncRequest, SyncResponse, WireKey,
};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{DocChanges, Grid, Household, NewHousehold, NewResident, Registration, Relation, Resident, Store};
use gridbook_e2e::{Device, TestServer, grid};
use gridbook_server::ServerConfig;

fn resident(name: &str) -> NewResident {
    NewResident {
        name: name.into(),
        id_number: None,
        gender: Some(gridbook_core::Gender::Female),
        birth_date: chrono::NaiveDate::from_ymd_opt(1948, 2, 1),
        relation: Relation::Head,
        phone: None,
        registration: Registration::Registered,
        care_tags: Default::default(),
    }
}

/// A village with a grid, a household of two residents and a third in another household, made by
/// the village's secretary and synced.
struct Village {
    server: TestServer,
    secretary: Device,
    secretary_token: String,
    grid: Grid,
    home: Household,
    erased: Resident,
    kept: Resident,
    other_home: Household,
}

async fn village() -> Village {
    let server = TestServer::start().await;
    let secretary = Device::new("刘敏", "village-pc");
    let secretary_token = server.secretary("village-pc", "幸福村");
    let grid = secretary.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let household =
        |address: &str| NewHousehold { address: address.into(), head_name: "张三".into(), ..Default::default() };
    let home = secretary.store.add_household(grid.id, household("幸福村一组1号")).unwrap();
    let erased = secretary.store.add_resident(home.id, resident("张三")).unwrap();
    let kept = secretary.store.add_resident(home.id, resident("张小三")).unwrap();
    let other_home = secretary.store.add_household(grid.id, household("幸福村一组2号")).unwrap();
    secretary.store.sync(&server.remote(&secretary_token), &SyncOptions::default()).await.unwrap();
    Village { server, secretary, secretary_token, grid, home, erased, kept, other_home }
}

fn doc_of(home: &Household) -> String {
    format!("h/{}/{}", home.grid_id, home.id)
}

fn erase_resident(r: &Resident) -> EraseRequest {
    EraseRequest {
        id: r.id.0.into_bytes(),
        doc: format!("h/{}/{}", r.grid_id, r.household_id),
        kind: ErasedKind::Resident,
        reason: "the person asked".into(),
    }
}

fn erase_household(home: &Household) -> EraseRequest {
    EraseRequest { id: home.id.0.into_bytes(), doc: doc_of(home), kind: ErasedKind::Household, reason: "moved".into() }
}

/// Sends `request` as `store` with `token`, signing its own changes.
async fn send(server: &TestServer, token: &str, store: &Store, mut request: SyncRequest) -> SyncResponse {
    store.sign(&mut request).unwrap();
    server.raw_sync(token, &store.actor(), &request).await.unwrap()
}

async fn ask_erase(server: &TestServer, token: &str, store: &Store, erase: EraseRequest) -> SyncResponse {
    send(server, token, store, SyncRequest { erase: vec![erase], ..Default::default() }).await
}

fn want(r: &Resident) -> KeyWant {
    KeyWant { id: r.id.0.into_bytes(), doc: format!("h/{}/{}", r.grid_id, r.household_id), make: true }
}

/// A change to `doc`, made with automerge under `store`'s actor over what the store holds of it.
fn crafted(store: &Store, doc: &str, edit: impl FnOnce(&Automerge, &mut Transaction<'_>)) -> DocChanges {
    let set = store.changes_since(&Default::default()).unwrap();
    let changes = set.docs.into_iter().filter(|d| d.doc == doc).flat_map(|d| d.changes);
    let mut automerge = Automerge::new().with_actor(hex::decode(store.actor()).unwrap().into());
    automerge.apply_changes(changes.map(|b| automerge::Change::from_bytes(b).unwrap())).unwrap();
    let snapshot = automerge.fork();
    let mut tx = automerge.transaction();
    edit(&snapshot, &mut tx);
    tx.commit();
    DocChanges { doc: doc.into(), changes: vec![automerge.get_last_local_change().unwrap().raw_bytes().to_vec()] }
}

fn record(doc: &Automerge, r: &Resident) -> ObjId {
    doc.get(ROOT, format!("resident:{}", r.id)).unwrap().expect("the resident's record").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_without_the_registrys_authority_is_refused_and_destroys_nothing() {
    let v = village().await;
    let server = &v.server;
    let member = Device::new("王芳", "phone-wang");
    let member_token = server.grid_member("phone-wang", &[&v.grid]);
    let department = Device::new("民政", "dept-pc");
    let department_token = server.department("dept-pc", "民政");
    let stranger = Device::new("赵红", "other-village-pc");
    let stranger_token = server.secretary("other-village-pc", "光明村");
    let request = erase_resident(&v.erased);
    let refused = |reason| vec![EraseRefusal { id: request.id, reason }];

    let answer = ask_erase(server, &member_token, &member.store, request.clone()).await;
    assert_eq!(answer.erase_refused, refused(RefusalReason::NotAllowed), "a grid member may not erase");
    let answer = ask_erase(server, &department_token, &department.store, request.clone()).await;
    assert_eq!(answer.erase_refused, refused(RefusalReason::NotAllowed), "nor a department");
    let answer = ask_erase(server, &stranger_token, &stranger.store, request.clone()).await;
    assert_eq!(answer.erase_refused, refused(RefusalReason::OutsideScope), "nor another village's secretary");
    // The secretary's own scope, but the resident named under a household it does not live in, or
    // a household under another's document.
    let elsewhere = EraseRequest { doc: doc_of(&v.other_home), ..request.clone() };
    let answer = ask_erase(server, &v.secretary_token, &v.secretary.store, elsewhere).await;
    assert_eq!(answer.erase_refused, refused(RefusalReason::Malformed));
    let mismatched = EraseRequest { doc: doc_of(&v.other_home), ..erase_household(&v.home) };
    let answer = ask_erase(server, &v.secretary_token, &v.secretary.store, mismatched).await;
    assert_eq!(answer.erase_refused, [EraseRefusal { id: v.home.id.0.into_bytes(), reason: RefusalReason::Malformed }]);
    assert!(answer.erased.is_empty(), "no erasure was carried out");
    // A secretary's device revoked as retired may still upload, never erase.
    let retired = Device::new("刘敏", "old-village-pc");
    let retired_token = server.secretary("old-village-pc", "幸福村");
    server.revoke("old-village-pc", gridbook_server::Revocation::Retired);
    let answer = ask_erase(server, &retired_token, &retired.store, request.clone()).await;
    assert_eq!(answer.erase_refused, refused(RefusalReason::NotAllowed));

    // The key is still there for a store in scope.
    let request = SyncRequest { wants: vec![want(&v.erased)], ..Default::default() };
    let answer = send(server, &member_token, &member.store, request).await;
    assert!(answer.keys.iter().any(|k| k.id == v.erased.id.0.into_bytes()));
    assert!(answer.key_refused.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_residents_key_is_gone_and_nothing_writes_the_resident_again() {
    let v = village().await;
    let server = &v.server;
    let answer = ask_erase(server, &v.secretary_token, &v.secretary.store, erase_resident(&v.erased)).await;
    assert!(answer.erase_refused.is_empty(), "{:?}", answer.erase_refused);
    let id = v.erased.id.0.into_bytes();
    let notice = answer.erased.iter().find(|n| n.id == id).expect("the erasing store is told too");
    assert_eq!((notice.kind, notice.doc.as_str()), (ErasedKind::Resident, doc_of(&v.home).as_str()));
    let again = SyncRequest { erase: vec![erase_resident(&v.erased)], erased_since: notice.seq, ..Default::default() };
    let again = send(server, &v.secretary_token, &v.secretary.store, again).await;
    assert!(again.erase_refused.is_empty() && again.erased.is_empty(), "acknowledged once, one notice");

    // No store can get the key again, not even by asking for it to be made.
    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&v.grid]);
    phone.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    let erased = KeyRefusal { id, reason: RefusalReason::Erased };
    let request = SyncRequest { wants: vec![want(&v.erased), want(&v.kept)], ..Default::default() };
    let answer = send(server, &token, &phone.store, request).await;
    assert_eq!(answer.key_refused, std::slice::from_ref(&erased));
    assert!(answer.keys.iter().all(|k| k.id != id), "the erased resident's key is not handed out");
    assert!(answer.keys.iter().any(|k| k.id == v.kept.id.0.into_bytes()), "the other resident's is");
    // A key uploaded for it later is refused.
    let forged = WireKey { id, doc: doc_of(&v.home), key: zeroize::Zeroizing::new([0x41; 32]) };
    let answer = send(server, &token, &phone.store, SyncRequest { keys: vec![forged], ..Default::default() }).await;
    assert_eq!(answer.key_refused, [erased]);

    // Plaintext into the erased record is refused, the request's other document stored.
    let doc = doc_of(&v.home);
    let plaintext = crafted(&phone.store, &doc, |d, tx| tx.put(record(d, &v.erased), "name", "张三").unwrap());
    let other = crafted(&phone.store, &doc_of(&v.other_home), |_, tx| tx.put(ROOT, "note", "ok").unwrap());
    let stored = server.change_count().await;
    let request = SyncRequest { docs: vec![plaintext, other], ..Default::default() };
    let answer = send(server, &token, &phone.store, request).await;
    assert_eq!(answer.refused, [Refusal { doc: doc.clone(), reason: RefusalReason::Erased }]);
    assert_eq!(server.change_count().await, stored + 1, "the other document is stored");
    // So is the record brought back.
    let resurrected = crafted(&phone.store, &doc, |_, tx| {
        let again = tx.put_object(ROOT, format!("resident:{}", v.erased.id), automerge::ObjType::Map).unwrap();
        tx.put(&again, "name", "张三").unwrap();
    });
    let answer =
        send(server, &token, &phone.store, SyncRequest { docs: vec![resurrected], ..Default::default() }).await;
    assert_eq!(answer.refused, [Refusal { doc: doc.clone(), reason: RefusalReason::Erased }]);
    // Ciphertext from a store that had not heard yet is harmless, and its work is kept.
    let sealed = crafted(&phone.store, &doc, |d, tx| {
        tx.put(record(d, &v.erased), "name", ScalarValue::Bytes(vec![7; 40])).unwrap()
    });
    let answer = send(server, &token, &phone.store, SyncRequest { docs: vec![sealed], ..Default::default() }).await;
    assert!(answer.refused.is_empty(), "{:?}", answer.refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_household_is_gone_from_the_server_and_refused_for_good() {
    let v = village().await;
    let server = &v.server;
    let centre = Device::new("中心", "centre-pc");
    let centre_token = server.centre("centre-pc");
    let department = Device::new("民政", "dept-pc");
    let department_token = server.department("dept-pc", "民政");
    let before = server.change_count().await;
    let answer = ask_erase(server, &centre_token, &centre.store, erase_household(&v.home)).await;
    assert!(answer.erase_refused.is_empty(), "{:?}", answer.erase_refused);
    assert!(server.change_count().await < before, "the household's changes are deleted");
    // Its residents' keys went with it.
    let answer =
        send(server, &centre_token, &centre.store, SyncRequest { wants: vec![want(&v.kept)], ..Default::default() })
            .await;
    assert_eq!(answer.key_refused, [KeyRefusal { id: v.kept.id.0.into_bytes(), reason: RefusalReason::Erased }]);
    // A department is told nothing: it never had the ledger's keys.
    let answer = send(server, &department_token, &department.store, SyncRequest::default()).await;
    assert!(answer.erased.is_empty());

    // A new store of the grid never receives it, and any change to it is refused.
    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&v.grid]);
    phone.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    assert!(phone.store.household(v.home.id).is_err(), "the household is not served");
    assert!(phone.store.household(v.other_home.id).is_ok());
    let doc = doc_of(&v.home);
    let change = crafted(&v.secretary.store, &doc, |_, tx| tx.put(ROOT, "note", "still here").unwrap());
    let answer =
        send(server, &v.secretary_token, &v.secretary.store, SyncRequest { docs: vec![change], ..Default::default() })
            .await;
    assert_eq!(answer.refused, [Refusal { doc, reason: RefusalReason::Erased }]);

    // A journal entry about it with its note in plaintext is refused; one about another household
    // is kept.
    let journal = format!("j/{}/2026-12", v.grid.id);
    let entry = |home: &Household, id: &str| {
        let json =
            serde_json::json!({ "id": id, "household_id": home.id, "notes": "老人身体状况良好", "purposes": [] });
        crafted(&v.secretary.store, &journal, |_, tx| tx.put(ROOT, format!("visit:{id}"), json.to_string()).unwrap())
    };
    let about_erased = entry(&v.home, "01a20427-e6d9-752c-8089-15fee0f65300");
    let answer = send(
        server,
        &v.secretary_token,
        &v.secretary.store,
        SyncRequest { docs: vec![about_erased], ..Default::default() },
    )
    .await;
    assert_eq!(answer.refused, [Refusal { doc: journal.clone(), reason: RefusalReason::Erased }]);
    let about_other = entry(&v.other_home, "01a20427-e6d9-752c-8089-15fee0f65301");
    let answer = send(
        server,
        &v.secretary_token,
        &v.secretary.store,
        SyncRequest { docs: vec![about_other], ..Default::default() },
    )
    .await;
    assert!(answer.refused.is_empty(), "{:?}", answer.refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_missed_a_pruned_notice_is_told_to_start_over() {
    let v = village().await;
    let server = &v.server;
    let phone = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&v.grid]);
    let first = send(server, &token, &phone.store, SyncRequest::default()).await;
    let answer = ask_erase(server, &v.secretary_token, &v.secretary.store, erase_resident(&v.erased)).await;
    let seq = answer.erased.last().expect("a notice").seq;
    let ask = |cursor: Vec<u8>, erased_since| SyncRequest { cursor, erased_since, ..Default::default() };
    let answer = send(server, &token, &phone.store, ask(first.cursor.clone(), 0)).await;
    assert!(!answer.resync && answer.erased.iter().any(|n| n.seq == seq), "kept notices are sent");
    // Another village's secretary hears of no erasure, and syncs on with the cursors it is given.
    let elsewhere = Device::new("赵红", "other-village-pc");
    let elsewhere_token = server.secretary("other-village-pc", "光明村");
    let before = send(server, &elsewhere_token, &elsewhere.store, SyncRequest::default()).await;
    assert!(before.erased.is_empty(), "not in its scope");

    // The notice's days are over.
    let config = ServerConfig { erasure_notice_days: 0, ..ServerConfig::default() };
    gridbook_server::Server::open(&server.data_dir(), config).unwrap().prune_erasure_notices().unwrap();
    let answer = send(server, &token, &phone.store, ask(first.cursor.clone(), 0)).await;
    assert!(answer.resync, "a store that synced before and missed it starts over");
    assert!(answer.erased.is_empty());
    let answer = send(server, &token, &phone.store, ask(first.cursor.clone(), seq)).await;
    assert!(!answer.resync, "one that carried it out does not");
    let answer = send(server, &elsewhere_token, &elsewhere.store, ask(before.cursor, 0)).await;
    assert!(!answer.resync, "nor one whose cursor says it was sent every notice in its scope");
    let again = send(server, &elsewhere_token, &elsewhere.store, ask(answer.cursor, 0)).await;
    assert!(!again.resync, "and it moves on");
    let fresh = Device::new("李娜", "phone-li");
    let fresh_token = server.grid_member("phone-li", &[&v.grid]);
    let answer = send(server, &fresh_token, &fresh.store, ask(Vec::new(), 0)).await;
    assert!(!answer.resync, "a store that never synced starts from the server's copy anyway");
}
