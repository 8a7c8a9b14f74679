//! Scope: a grid member of grid A never receives grid B, cannot push a change to it (the documents
//! are refused) or fetch its photos, and a revoked device is refused at its next request while the rest keep syncing.

use gridbook_core::sync::wire::{SyncRequest, compress};
use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{Error, HouseholdEdit, NewEvent, NewHousehold, Urgency};
use gridbook_e2e::{Device, TestServer, grid, photo_file};
use gridbook_server::Revocation;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_member_neither_reads_nor_writes_another_grid() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let a = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let b = centre.store.create_grid(grid("第二网格", "光明村")).unwrap();
    let home_b = centre
        .store
        .add_household(
            b.id,
            NewHousehold { address: "光明村五组2号".into(), head_name: "陈桂兰".into(), ..Default::default() },
        )
        .unwrap();
    let event_b = centre
        .store
        .report_event(
            b.id,
            NewEvent {
                category: "安全隐患".into(),
                title: "电线老化".into(),
                description: String::new(),
                location: None,
                household_id: Some(home_b.id),
                urgency: Urgency::Urgent,
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo_b =
        centre.store.attach_photo(event_b.id, &photo_file(dir.path(), "wire.jpg", 800, 600), None, None).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let member = Device::new("王芳", "phone-wang");
    let token = server.grid_member("phone-wang", &[&a]);
    let remote = server.remote(&token);
    member.store.sync(&remote, &options).await.unwrap();
    // Listing: grid A only; nothing of grid B, even syncing from the very beginning.
    assert_eq!(member.store.grids().unwrap(), vec![a.clone()]);
    assert!(member.store.household(home_b.id).is_err());
    assert!(member.store.event(event_b.id).is_err());

    // Fetching a document of B: the exchange from an empty cursor never carries one.
    let everything = server.raw_sync(&token, &member.store.actor(), &SyncRequest::default()).await;
    let docs = everything.expect("the exchange answers").docs;
    assert!(docs.iter().all(|d| d.doc.contains(&a.id.to_string())), "only grid A: {:?}", docs.len());

    // Pushing a change to B: every document of it is refused, and nothing stored.
    let intruder_home = centre.store.changes_since(&Default::default()).unwrap();
    let smuggle = SyncRequest {
        docs: intruder_home.docs.into_iter().filter(|d| d.doc.contains(&b.id.to_string())).collect(),
        ..SyncRequest::default()
    };
    let before = server.change_count().await;
    let pushed = server.raw_sync(&token, &member.store.actor(), &smuggle).await.expect("answered");
    assert_eq!(pushed.refused.len(), smuggle.docs.len());
    assert!(pushed.refused.iter().all(|r| r.reason == RefusalReason::OutsideScope), "{:?}", pushed.refused);
    assert_eq!(server.change_count().await, before, "nothing of the refused documents was stored");

    // A real edit to B cannot even be made on the device (it has no B), so craft it on a copy: the
    // centre's edit, sent with the member's token (and so the centre's actor), is refused whole.
    centre.store.edit_household(home_b.id, HouseholdEdit { notes: Some("改".into()), ..Default::default() }).unwrap();
    let prepared = centre.store.prepare_sync(1 << 20).unwrap();
    let pushed = server.raw_sync(&token, &centre.store.actor(), &prepared.request).await;
    assert!(matches!(pushed, Err(Error::Forbidden(_))), "got {pushed:?}");

    // Fetching B's photo: answered as a photo that does not exist, so that existence does not leak.
    let fetched = member.store.fetch_photo(&remote, &photo_b.sha256).await;
    assert!(matches!(fetched, Err(Error::NotFound { .. })), "got {fetched:?}");
    assert!(server.raw_body(&token, &compress(b"not a sync message")).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_and_the_others_keep_syncing() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let a = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    let lost = Device::new("王芳", "phone-lost");
    let lost_remote = server.remote(&server.grid_member("phone-lost", &[&a]));
    lost.store.sync(&lost_remote, &options).await.unwrap();

    server.revoke("phone-lost", Revocation::Lost);
    let refused = lost.store.sync(&lost_remote, &options).await;
    assert!(matches!(refused, Err(Error::Wiped)), "got {refused:?}");
    assert!(matches!(lost.store.sync_status(), Err(Error::Wiped)), "the app can show why");
    centre.store.create_grid(grid("第三网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let wrong = server.remote("gbt_otherdistrict_00000000000000000000000000000000000000000000000000000000000000ff");
    assert!(matches!(centre.store.sync(&wrong, &options).await, Err(Error::Unauthorized(_))));
}
