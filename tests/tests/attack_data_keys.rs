//! Attacks on data keys (wire version 7). A device that could replace a record's key on the server
//! would make every other store's copy of the record unreadable, or read what is sealed under the
//! key it chose; one that could park a key for a document outside its scope could do the same to
//! another grid. The server keeps the first key of a record and refuses keys outside the uploader's
//! scope.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use gridbook_core::sync::wire::{KeyRefusal, SyncRequest, WireKey};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{NewHousehold, Store};
use gridbook_e2e::{Device, TestServer, grid};

fn forged(id: uuid::Uuid, doc: String) -> WireKey {
    WireKey { id: id.into_bytes(), doc, key: zeroize::Zeroizing::new([0x41; 32]) }
}

async fn upload(server: &TestServer, token: &str, store: &Store, key: WireKey) -> Vec<KeyRefusal> {
    let request = SyncRequest { keys: vec![key], ..Default::default() };
    server.raw_sync(token, &store.actor(), &request).await.unwrap().key_refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_key_for_a_household_is_refused_and_the_first_is_kept() {
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
    secretary.store.sync(&secretary_remote, &SyncOptions::default()).await.unwrap();

    // A grid member of the grid, in scope, uploads its own bytes for the household's key.
    let rogue = Device::new("王芳", "phone-x");
    let token = server.grid_member("phone-x", &[&g]);
    let doc = format!("h/{}/{}", g.id, home.id);
    let refused = upload(&server, &token, &rogue.store, forged(home.id.0, doc)).await;
    assert_eq!(refused, [KeyRefusal { id: home.id.0.into_bytes(), reason: RefusalReason::NotAllowed }]);

    // Every store in scope still receives the original key and reads the household.
    let member = Device::new("李娜", "phone-li");
    member.store.sync(&server.remote(&server.grid_member("phone-li", &[&g])), &SyncOptions::default()).await.unwrap();
    assert_eq!(member.store.household(home.id).unwrap().head_name, "张三");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_for_a_document_outside_the_devices_scope_is_refused() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let mine = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let other = centre.store.create_grid(grid("第二网格", "光明村")).unwrap();
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();

    // A household of the other grid that its own store has not synced yet: a key parked first
    // would win.
    let rogue = Device::new("王芳", "phone-x");
    let token = server.grid_member("phone-x", &[&mine]);
    let id = uuid::Uuid::now_v7();
    let refused = upload(&server, &token, &rogue.store, forged(id, format!("h/{}/{id}", other.id))).await;
    assert_eq!(refused, [KeyRefusal { id: id.into_bytes(), reason: RefusalReason::OutsideScope }]);
    // Nor may an event's key name another record than the event.
    let event = uuid::Uuid::now_v7();
    let refused = upload(&server, &token, &rogue.store, forged(id, format!("e/{}/{event}", mine.id))).await;
    assert_eq!(refused, [KeyRefusal { id: id.into_bytes(), reason: RefusalReason::Malformed }]);
    // The household's own store keeps its key when it syncs: nothing was parked.
    let other_member = Device::new("赵红", "phone-zhao");
    let other_remote = server.remote(&server.grid_member("phone-zhao", &[&other]));
    other_member.store.sync(&other_remote, &SyncOptions::default()).await.unwrap();
    let home = other_member
        .store
        .add_household(
            other.id,
            NewHousehold { address: "光明村1号".into(), head_name: "钱七".into(), ..Default::default() },
        )
        .unwrap();
    other_member.store.sync(&other_remote, &SyncOptions::default()).await.unwrap();
    centre.store.sync(&centre_remote, &SyncOptions::default()).await.unwrap();
    assert_eq!(centre.store.household(home.id).unwrap().head_name, "钱七");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sent_again_by_a_retried_request_is_kept_once_and_not_refused() {
    let server = TestServer::start().await;
    let centre = Device::new("中心", "centre-pc");
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.sync(&server.remote(&server.centre("centre-pc")), &SyncOptions::default()).await.unwrap();

    let phone = Device::new("王芳", "phone");
    let token = server.grid_member("phone", &[&g]);
    let id = uuid::Uuid::now_v7();
    let doc = format!("h/{}/{id}", g.id);
    assert_eq!(upload(&server, &token, &phone.store, forged(id, doc.clone())).await, []);
    // The reply was lost: the same key comes again, and is held already.
    assert_eq!(upload(&server, &token, &phone.store, forged(id, doc.clone())).await, [], "the same key again");
    let other = WireKey { key: zeroize::Zeroizing::new([0x42; 32]), ..forged(id, doc) };
    let refused = upload(&server, &token, &phone.store, other).await;
    assert_eq!(refused, [KeyRefusal { id: id.into_bytes(), reason: RefusalReason::NotAllowed }]);
}
