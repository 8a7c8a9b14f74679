//! No poisoned outbox: a document the server refuses is refused alone. A grid member who made a grid
//! it may not write (`gridbook grid add` on its phone) still gets its household work up and the
//! others' work down; the grid waits, held back, until the member discards it or sends it again.

use gridbook_core::sync::{RefusalReason, SyncOptions};
use gridbook_core::{Error, HouseholdEdit, NewEvent, NewHousehold, Page, Urgency};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

fn household(address: &str, head: &str) -> NewHousehold {
    NewHousehold { address: address.into(), head_name: head.into(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_document_is_held_back_and_the_rest_syncs() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let a = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let home = centre.store.add_household(a.id, household("幸福村一组1号", "李建国")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    // A grid the member may not write, made before the phone was enrolled (once enrolled, the
    // store itself refuses it), and then an ordinary edit in its own grid.
    let member = Device::new("王芳", "phone-wang");
    let stray = member.store.create_grid(grid("新网格", "幸福村")).unwrap();
    let stray_doc = format!("g/{}", stray.id);
    let remote = server.remote(&server.grid_member("phone-wang", &[&a]));
    member.store.sync(&remote, &options).await.expect("one refused document does not fail the sync");
    let edit = HouseholdEdit { notes: Some("独居老人，每周探访".into()), ..Default::default() };
    member.store.edit_household(home.id, edit).unwrap();

    let report = member.store.sync(&remote, &options).await.expect("one refused document does not fail the sync");
    let status = member.store.sync_status().unwrap();
    assert_eq!(status.refused.len(), 1, "{:?}", status.refused);
    assert_eq!(
        (status.refused[0].doc.as_str(), status.refused[0].reason),
        (stray_doc.as_str(), RefusalReason::NotAllowed)
    );
    assert_eq!(status.pending_changes, 0, "the edit went up; the grid is held back, not pending");
    assert!(status.last_error.is_none());
    assert!(report.changes_sent >= 1);

    // The edit reached the server and another device.
    let other = Device::new("街道中心张伟", "centre-laptop");
    other.store.sync(&server.remote(&server.centre("centre-laptop")), &options).await.unwrap();
    assert_eq!(other.store.household(home.id).unwrap().notes, "独居老人，每周探访");
    assert!(other.store.grid(stray.id).is_err(), "the refused grid was not stored");

    // The next sync works both ways, and does not send the refused grid again.
    let first_refused = status.refused[0].last_refused_at;
    assert!(member.store.prepare_sync(1 << 20).unwrap().request.docs.iter().all(|d| d.doc != stray_doc));
    let later = centre.store.add_household(a.id, household("幸福村一组2号", "陈桂兰")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    member.store.sync(&remote, &options).await.unwrap();
    assert_eq!(member.store.household(later.id).unwrap().address, "幸福村一组2号", "the others' work came down");
    assert_eq!(member.store.sync_status().unwrap().refused[0].last_refused_at, first_refused, "not sent again");

    // Sent again on request: a grid member still may not make a grid, so refused again, and
    // nothing else is lost.
    member.store.retry_refused(&stray_doc).unwrap();
    assert!(member.store.sync_status().unwrap().refused.is_empty());
    assert!(member.store.prepare_sync(1 << 20).unwrap().request.docs.iter().any(|d| d.doc == stray_doc));
    member.store.sync(&remote, &options).await.unwrap();
    let refused = member.store.sync_status().unwrap().refused;
    assert_eq!(refused.iter().map(|r| r.doc.as_str()).collect::<Vec<_>>(), [stray_doc.as_str()]);

    // Discarded: gone from the store, the rest untouched, the status clean.
    member.store.discard_refused(&stray_doc).unwrap();
    let status = member.store.sync_status().unwrap();
    assert!(status.refused.is_empty());
    assert_eq!(status.pending_changes, 0);
    assert!(member.store.grid(stray.id).is_err());
    assert_eq!(member.store.grids().unwrap(), vec![a.clone()]);
    assert_eq!(member.store.households(a.id, false, Page::ALL).unwrap().len(), 2);
    let dump = member.store.dump_query_tables().unwrap();
    member.store.rebuild_query_tables().unwrap();
    assert_eq!(member.store.dump_query_tables().unwrap(), dump, "the query rows are those of the documents left");
    assert!(matches!(member.store.discard_refused(&stray_doc), Err(Error::NotFound { .. })));
    assert!(matches!(member.store.retry_refused(&stray_doc), Err(Error::NotFound { .. })));
    member.store.sync(&remote, &options).await.unwrap();
    assert!(member.store.sync_status().unwrap().refused.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photos_of_a_refused_event_wait_with_it_and_are_not_asked_for() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let member = Device::new("王芳", "phone-wang");
    let own = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let remote = server.remote(&server.grid_member("phone-wang", &[&own]));
    // An event, with a photo, in a grid the member made but may not write.
    let stray = member.store.create_grid(grid("新网格", "幸福村")).unwrap();
    let event = NewEvent {
        category: "市政设施".into(),
        title: "路灯不亮".into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    };
    let event = member.store.report_event(stray.id, event).unwrap();
    let photos = tempfile::tempdir().unwrap();
    member.store.attach_photo(event.id, &photo_file(photos.path(), "lamp.jpg", 320, 240), None, None).unwrap();

    let report = member.store.sync(&remote, &options).await.unwrap();
    let refused: Vec<String> = member.store.sync_status().unwrap().refused.into_iter().map(|r| r.doc).collect();
    assert!(refused.contains(&format!("e/{}/{}", stray.id, event.id)), "{refused:?}");
    assert_eq!(report.photos_uploaded, 0);
    member.store.sync(&remote, &options).await.unwrap();
    let metrics = reqwest::get(format!("{}/metrics", server.url())).await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("kind=\"not_found\""), "no photo request for a refused event:\n{metrics}");
    assert!(member.store.sync_status().unwrap().pending_photo_bytes > 0, "the photo waits with its event");
}
