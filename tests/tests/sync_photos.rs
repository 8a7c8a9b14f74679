//! A photo is read only through the event it was uploaded for. A device of another grid that names
//! a photo's hash from an event of its own learns nothing: not the photo, not even that it exists.
//! The centre and the department the event was dispatched to fetch it; another department cannot.
//! Encrypted stores send and fetch their sealed photos as the JPEGs they are.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::SyncRequest;
use gridbook_core::{DocChanges, Error, NewEvent, StepAction, Urgency};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

fn new_event(title: &str) -> NewEvent {
    NewEvent {
        category: "环境卫生".into(),
        title: title.into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    }
}

/// Status and body of a photo request with `token`.
async fn ask(server: &TestServer, token: &str, path: &str) -> (u16, Vec<u8>) {
    let response =
        reqwest::Client::new().get(format!("{}{path}", server.url())).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

/// The event document `doc` of `device`, with its photo's `sha256` replaced by `sha`: a change the
/// device's own store would never make, since it does not have that photo.
fn naming_another_photo(device: &Device, doc: &str, sha: &str) -> DocChanges {
    let all = device.store.changes_since(&Default::default()).unwrap();
    let mine = all.docs.into_iter().find(|d| d.doc == doc).unwrap();
    let mut am = AutoCommit::new();
    for change in &mine.changes {
        am.load_incremental(change).unwrap();
    }
    am.set_actor(ActorId::from(hex_decode(&device.store.actor())));
    let before = am.get_heads();
    let photo_key = am.keys(ROOT).find(|k| k.starts_with("photo:")).unwrap();
    let photo = match am.get(ROOT, &photo_key).unwrap() {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        other => panic!("a photo record is a map: {other:?}"),
    };
    am.put(&photo, "sha256", sha).unwrap();
    let changes = am.get_changes(&before).into_iter().map(|c| c.raw_bytes().to_vec()).collect();
    DocChanges { doc: doc.into(), changes }
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_stores_upload_the_jpeg_and_keep_what_they_fetch_sealed() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let member = Device::encrypted("王芳", "phone-wang");
    let centre = Device::encrypted("街道中心张伟", "centre-pc");
    let centre_remote = server.remote(&server.centre("centre-pc"));
    let g1 = centre.store.create_grid(grid("幸福村第一网格", "幸福村")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    let member_remote = server.remote(&server.grid_member("phone-wang", &[&g1]));
    member.store.sync(&member_remote, &options).await.unwrap();
    let event = member.store.report_event(g1.id, new_event("垃圾堆放")).unwrap();
    let sha =
        member.store.attach_photo(event.id, &photo_file(dir.path(), "p.jpg", 1600, 1200), None, None).unwrap().sha256;
    let sealed_file = |device: &Device| {
        std::fs::read(device.store.dir().join("photos").join(&sha[..2]).join(format!("{sha}.jpg"))).unwrap()
    };
    assert!(sealed_file(&member).starts_with(b"GBPHOTO1"));
    assert_eq!(member.store.sync(&member_remote, &options).await.unwrap().photos_uploaded, 1);

    // The server has the JPEG itself, named by its hash: what the member's store reads back.
    let jpeg = member.store.photo(&sha).unwrap().unwrap();
    assert_eq!(std::fs::read(server.data_dir().join("photos").join(&sha)).unwrap(), jpeg);
    centre.store.sync(&centre_remote, &options).await.unwrap();
    assert_eq!(centre.store.photo(&sha).unwrap(), None, "photos come on demand");
    assert_eq!(centre.store.fetch_photo(&centre_remote, &sha).await.unwrap(), jpeg);
    assert!(sealed_file(&centre).starts_with(b"GBPHOTO1"), "kept sealed");
    assert_ne!(sealed_file(&centre), sealed_file(&member), "each store seals under its own key");
    assert_eq!(centre.store.photo(&sha).unwrap(), Some(jpeg));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowing_a_photos_hash_grants_nothing() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let dir = tempfile::tempdir().unwrap();

    // Grid 1's member reports an event with a photo; the centre dispatches it to one department.
    let member = Device::new("王芳", "phone-wang");
    let centre = Device::new("街道中心张伟", "centre-pc");
    let centre_token = server.centre("centre-pc");
    let g1 = centre.store.create_grid(grid("幸福村第一网格", "幸福村")).unwrap();
    centre.store.sync(&server.remote(&centre_token), &options).await.unwrap();
    let member_token = server.grid_member("phone-wang", &[&g1]);
    let member_remote = server.remote(&member_token);
    member.store.sync(&member_remote, &options).await.unwrap();
    let event = member.store.report_event(g1.id, new_event("垃圾堆放")).unwrap();
    let file = photo_file(dir.path(), "rubbish.jpg", 1600, 1200);
    let sha = member.store.attach_photo(event.id, &file, None, None).unwrap().sha256;
    assert_eq!(member.store.sync(&member_remote, &options).await.unwrap().photos_uploaded, 1);
    let centre_remote = server.remote(&centre_token);
    centre.store.sync(&centre_remote, &options).await.unwrap();
    centre.store.event_step(event.id, StepAction::Dispatch { department: "城管".into() }, "").unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();

    // Grid 2's member names that hash from an event of its own grid.
    let intruder = Device::new("李强", "phone-li");
    let g2 = centre.store.create_grid(grid("平安村第一网格", "平安村")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    let intruder_token = server.grid_member("phone-li", &[&g2]);
    let intruder_remote = server.remote(&intruder_token);
    intruder.store.sync(&intruder_remote, &options).await.unwrap();
    let own = intruder.store.report_event(g2.id, new_event("路灯")).unwrap();
    let decoy = photo_file(dir.path(), "lamp.jpg", 800, 600);
    intruder.store.attach_photo(own.id, &decoy, None, None).unwrap();
    intruder.store.sync(&intruder_remote, &options).await.unwrap();
    let own_doc = format!("e/{}/{}", g2.id, own.id);
    let mut crafted = SyncRequest {
        cursor: Vec::new(),
        docs: vec![naming_another_photo(&intruder, &own_doc, &sha)],
        ..Default::default()
    };
    intruder.store.sign(&mut crafted).unwrap();
    server.raw_sync(&intruder_token, &intruder.store.actor(), &crafted).await.unwrap();

    // The photo, its status, and its status for the intruder's own event: each answered exactly as
    // for a hash nobody has.
    let unknown = "0123456789abcdef".repeat(4);
    for (path, unknown_path) in [
        (format!("/v1/photos/{sha}"), format!("/v1/photos/{unknown}")),
        (format!("/v1/photos/{sha}/status"), format!("/v1/photos/{unknown}/status")),
        (format!("/v1/photos/{sha}?event={own_doc}"), format!("/v1/photos/{unknown}?event={own_doc}")),
    ] {
        let asked = ask(&server, &intruder_token, &path).await;
        assert_eq!(asked, ask(&server, &intruder_token, &unknown_path).await, "{path}");
        assert_eq!(asked.0, 404, "{path}: {}", String::from_utf8_lossy(&asked.1));
    }
    let claimed = ask(&server, &intruder_token, &format!("/v1/photos/{sha}/status?event={own_doc}")).await;
    assert_eq!((claimed.0, &claimed.1[..]), (200, &br#"{"received":0,"complete":false}"#[..]), "nothing to resume");
    let fetched = intruder.store.fetch_photo(&intruder_remote, &sha).await;
    assert!(matches!(fetched, Err(Error::NotFound { .. })), "got {fetched:?}");

    // Those the event is for fetch it; the department of another event does not.
    let original = member.store.photo(&sha).unwrap().unwrap();
    assert_eq!(centre.store.fetch_photo(&centre_remote, &sha).await.unwrap(), original);
    let department = Device::new("城管李工", "dept-city");
    let department_remote = server.remote(&server.department("dept-city", "城管"));
    department.store.sync(&department_remote, &options).await.unwrap();
    assert_eq!(department.store.fetch_photo(&department_remote, &sha).await.unwrap(), original);
    let other_token = server.department("dept-water", "水务");
    assert_eq!(
        ask(&server, &other_token, &format!("/v1/photos/{sha}")).await,
        ask(&server, &other_token, &format!("/v1/photos/{unknown}")).await
    );
    assert_eq!(ask(&server, &other_token, &format!("/v1/photos/{sha}")).await.0, 404);
}
