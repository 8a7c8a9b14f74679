//! Remote wipe through the server: a grid member's phone revoked as lost destroys its store at its
//! next contact, and nothing it had not sent reaches anyone; one retired because its holder left
//! uploads what it had not sent, then destroys its store. An order to wipe that is not signed by the
//! server the store enrolled with wipes nothing.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_core::{
    Error, Event, Grid, Household, HouseholdEdit, NewEvent, NewHousehold, Store, StoreConfig, Urgency,
};
use gridbook_e2e::{Device, TestServer, grid, photo_file};
use gridbook_server::Revocation;

const NOTE: &str = "独居老人，每周探访";

/// The district: the centre's PC with a household, and a grid member's phone that synced it, then
/// edited it and reported an event with a photo, none of which it has sent yet.
struct District {
    server: TestServer,
    centre: Device,
    centre_remote: Remote,
    member: Device,
    member_remote: Remote,
    home: Household,
    event: Event,
    _photos: tempfile::TempDir,
}

async fn district() -> District {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let a: Grid = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let new =
        NewHousehold { address: "幸福村一组1号".into(), head_name: "李建国".into(), ..Default::default() };
    let home = centre.store.add_household(a.id, new).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    let member = Device::new("王芳", "phone-wang");
    let member_remote = server.remote(&server.grid_member("phone-wang", &[&a]));
    member.store.sync(&member_remote, &options).await.unwrap();
    member.store.edit_household(home.id, HouseholdEdit { notes: Some(NOTE.into()), ..Default::default() }).unwrap();
    let event = member
        .store
        .report_event(
            a.id,
            NewEvent {
                category: "安全隐患".into(),
                title: "电线老化".into(),
                description: String::new(),
                location: None,
                household_id: Some(home.id),
                urgency: Urgency::Urgent,
            },
        )
        .unwrap();
    let photos = tempfile::tempdir().unwrap();
    member.store.attach_photo(event.id, &photo_file(photos.path(), "wire.jpg", 800, 600), None, None).unwrap();
    assert!(member.store.sync_status().unwrap().pending_changes > 0);
    District { server, centre, centre_remote, member, member_remote, home, event, _photos: photos }
}

/// The store's files left in `dir`: none once it is wiped but the wipe's mark.
fn store_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "WIPED")
        .collect();
    names.sort();
    names
}

fn assert_wiped(store: &Store) {
    assert!(store.is_wiped());
    assert_eq!(store_files(store.dir()), Vec::<String>::new(), "no database, WAL, shared memory or photos");
    assert!(matches!(store.sync_status(), Err(Error::Wiped)), "every call is refused");
    assert!(matches!(store.grids(), Err(Error::Wiped)));
    let reopened = Store::open(store.dir(), StoreConfig::new("王芳", "phone-wang"));
    assert!(matches!(reopened, Err(Error::Wiped)), "opening it does not make a new store unasked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_is_wiped_at_its_next_contact_and_its_unsent_work_reaches_no_one() {
    let d = district().await;
    let options = SyncOptions::default();
    let held = d.server.change_count().await;
    assert!(d.member.store.dir().join("photos").exists());

    d.server.revoke("phone-wang", Revocation::Lost);
    let synced = d.member.store.sync(&d.member_remote, &options).await;
    assert!(matches!(synced, Err(Error::Wiped)), "got {synced:?}");
    assert_wiped(&d.member.store);

    assert_eq!(d.server.change_count().await, held, "nothing of the lost phone's request was stored");
    d.centre.store.sync(&d.centre_remote, &options).await.unwrap();
    assert_eq!(d.centre.store.household(d.home.id).unwrap().notes, "", "the unsent edit never arrived");
    assert!(d.centre.store.event(d.event.id).is_err(), "nor the unsent event");

    // Asked, the directory takes a new, empty store.
    Store::start_over(d.member.store.dir()).unwrap();
    let fresh = Store::open(d.member.store.dir(), StoreConfig::new("王芳", "phone-wang")).unwrap();
    assert!(fresh.grids().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_that_only_asks_for_a_photo_is_wiped_then() {
    let d = district().await;
    let options = SyncOptions::default();
    let a = d.centre.store.grids().unwrap()[0].id;
    let new = NewEvent {
        category: "环境卫生".into(),
        title: "垃圾堆放".into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    };
    let event = d.centre.store.report_event(a, new).unwrap();
    let photos = tempfile::tempdir().unwrap();
    d.centre.store.attach_photo(event.id, &photo_file(photos.path(), "heap.jpg", 640, 480), None, None).unwrap();
    d.centre.store.sync(&d.centre_remote, &options).await.unwrap();
    let photo_sync = SyncOptions { photos: false, ..SyncOptions::default() };
    d.member.store.sync(&d.member_remote, &photo_sync).await.unwrap();
    let sha = d.member.store.event(event.id).unwrap().photos[0].sha256.clone();

    d.server.revoke("phone-wang", Revocation::Lost);
    let fetched = d.member.store.fetch_photo(&d.member_remote, &sha).await;
    assert!(matches!(fetched, Err(Error::Wiped)), "got {fetched:?}");
    assert_wiped(&d.member.store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_phone_uploads_its_unsent_work_then_is_wiped() {
    let d = district().await;
    let options = SyncOptions { photos: false, ..SyncOptions::default() };
    d.server.revoke("phone-wang", Revocation::Retired);
    let synced = d.member.store.sync(&d.member_remote, &options).await;
    assert!(matches!(synced, Err(Error::Wiped)), "got {synced:?}");
    assert_wiped(&d.member.store);

    d.centre.store.sync(&d.centre_remote, &options).await.unwrap();
    assert_eq!(d.centre.store.household(d.home.id).unwrap().notes, NOTE, "the unsent edit arrived");
    let event = d.centre.store.event(d.event.id).expect("the unsent event arrived");
    let sha = &event.photos[0].sha256;
    // The photo went up too, though this sync was told to leave photos for later.
    let fetched = d.centre.store.fetch_photo(&d.centre_remote, sha).await.expect("the photo is on the server");
    assert!(fetched.starts_with(&[0xFF, 0xD8]), "the JPEG, which fetch_photo checked against its name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_to_wipe_from_another_server_wipes_nothing() {
    let d = district().await;
    let options = SyncOptions::default();
    // Another server, of the same district's name, where a device was revoked as lost: its order
    // is signed, but not by the server this store enrolled with, and for another device.
    let other = TestServer::start().await;
    let other_token = other.centre("phone-wang");
    other.revoke("phone-wang", Revocation::Lost);
    let synced = d.member.store.sync(&other.remote(&other_token), &options).await;
    assert!(matches!(synced, Err(Error::Unauthorized(_))), "got {synced:?}");

    assert!(!d.member.store.is_wiped());
    assert!(d.member.store.dir().join("gridbook.db").exists());
    assert_eq!(d.member.store.household(d.home.id).unwrap().notes, NOTE);
    // Its own server still takes its work.
    d.member.store.sync(&d.member_remote, &options).await.unwrap();
    d.centre.store.sync(&d.centre_remote, &options).await.unwrap();
    assert_eq!(d.centre.store.household(d.home.id).unwrap().notes, NOTE);
}
