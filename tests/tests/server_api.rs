//! The server's edges: health and metrics, an actor presented by the wrong device, a change relayed
//! from a peer, a department that gets an event dispatched after its cursor whole, and photo uploads
//! that resume, conflict, or are not what they claim.

use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::SyncRequest;
use gridbook_core::{Error, EventState, NewEvent, StepAction, Urgency};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

fn event(title: &str) -> NewEvent {
    NewEvent {
        category: "市政设施".into(),
        title: title.into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_served_without_a_token() {
    let server = TestServer::start().await;
    let member = Device::new("王芳", "phone");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    member.store.sync(&server.remote(&server.grid_member("phone", &[&g])), &SyncOptions::default()).await.unwrap();
    let _ = server.raw_body("gbt_default_00", b"x").await;
    let http = reqwest::Client::new();
    let health = http.get(format!("{}/healthz", server.url())).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let metrics = http.get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap();
    for line in [
        "gridbook_syncs_total 1",
        "gridbook_changes_stored_total 1",
        "gridbook_sync_errors_total{kind=\"unauthorized\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("gridbook_sync_duration_seconds_count 1"));
    assert!(!metrics.contains("第一网格"), "no personal data in metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_actor_belongs_to_one_device_and_relayed_changes_are_accepted() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let a = Device::new("王芳", "phone-a");
    let g = a.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token_a = server.grid_member("phone-a", &[&g]);
    let token_b = server.grid_member("phone-b", &[&g]);
    a.store.sync(&server.remote(&token_a), &options).await.unwrap();

    // Device B presenting A's actor is refused.
    let stolen = server.raw_sync(&token_b, &a.store.actor(), &SyncRequest::default()).await;
    assert!(matches!(stolen, Err(Error::Forbidden(_))), "{stolen:?}");

    // B syncs once (its actor is bound), meets A with no signal, and carries A's new work up.
    let b = Device::new("李强", "phone-b");
    b.store.sync(&server.remote(&token_b), &options).await.unwrap();
    let e = a.store.report_event(g.id, event("井盖缺失")).unwrap();
    let (left, right) = tokio::io::duplex(4096);
    let shared = [g.id];
    let (x, y) = tokio::join!(a.store.exchange_with_peer(left, &shared), b.store.exchange_with_peer(right, &shared));
    x.unwrap();
    y.unwrap();
    b.store.sync(&server.remote(&token_b), &options).await.unwrap();
    let centre = Device::new("中心", "centre");
    centre.store.sync(&server.remote(&server.centre("centre")), &options).await.unwrap();
    assert_eq!(centre.store.event(e.id).unwrap().reported_by, "王芳", "relayed by B, still A's report");
    // A's own upload of the same change later is a no-op.
    let before = server.change_count().await;
    a.store.sync(&server.remote(&token_a), &options).await.unwrap();
    assert_eq!(server.change_count().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_gets_an_event_dispatched_after_its_cursor_whole() {
    let server = TestServer::start().await;
    let options = SyncOptions::default();
    let centre = Device::new("中心", "centre");
    let centre_remote = server.remote(&server.centre("centre"));
    let g = centre.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let dept = Device::new("供电所", "dept");
    let dept_remote = server.remote(&server.department("dept", "供电所"));
    let e = centre.store.report_event(g.id, event("电线老化")).unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    dept.store.sync(&dept_remote, &options).await.unwrap();
    assert!(dept.store.event(e.id).is_err(), "not dispatched yet: not visible");
    let other = centre.store.report_event(g.id, event("路灯")).unwrap();
    centre.store.event_step(e.id, StepAction::Dispatch { department: "供电所".into() }, "").unwrap();
    centre.store.sync(&centre_remote, &options).await.unwrap();
    dept.store.sync(&dept_remote, &options).await.unwrap();
    let seen = dept.store.event(e.id).unwrap();
    assert_eq!((seen.state, seen.title.as_str()), (EventState::Dispatched, "电线老化"), "the report came too");
    assert!(dept.store.event(other.id).is_err(), "only what was dispatched to it");
    // A department may act on its events, not on others.
    dept.store.event_step(e.id, StepAction::Accept, "").unwrap();
    dept.store.sync(&dept_remote, &options).await.unwrap();
    centre.store.event_step(other.id, StepAction::SolveOnSpot, "").unwrap();
    let prepared = centre.store.prepare_sync(1 << 20).unwrap();
    let dept_token = server.department("dept-2", "供电所");
    let pushed = server.raw_sync(&dept_token, "0a0b0c", &prepared.request).await.expect("answered");
    let refused: Vec<String> = pushed.refused.into_iter().map(|r| r.doc).collect();
    assert_eq!(refused, [format!("e/{}/{}", g.id, other.id)], "its step on another event is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photo_chunks_resume_conflict_and_are_checked() {
    let server = TestServer::start().await;
    let member = Device::new("王芳", "phone");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = server.grid_member("phone", &[&g]);
    let e = member.store.report_event(g.id, event("垃圾")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo = member.store.attach_photo(e.id, &photo_file(dir.path(), "p.jpg", 1600, 1200), None, None).unwrap();
    let records_only = SyncOptions { photos: false, ..SyncOptions::default() };
    member.store.sync(&server.remote(&token), &records_only).await.unwrap();

    let bytes = member.store.photo(&photo.sha256).unwrap().unwrap();
    let http = reqwest::Client::new();
    // An upload names the event it is for: the photo is bound to it, and read through it.
    let for_event = format!("e/{}/{}", g.id, e.id);
    let url = |offset: usize| {
        format!("{}/v1/photos/{}?event={for_event}&offset={offset}&total={}", server.url(), photo.sha256, bytes.len())
    };
    let put = |offset: usize, body: Vec<u8>| http.put(url(offset)).bearer_auth(&token).body(body).send();
    let first = put(0, bytes[..10_000].to_vec()).await.unwrap();
    assert_eq!(first.status(), 200);
    let wrong = put(5_000, bytes[5_000..20_000].to_vec()).await.unwrap();
    assert_eq!(wrong.status(), 409);
    let body: serde_json::Value = serde_json::from_slice(&wrong.bytes().await.unwrap()).unwrap();
    assert_eq!((body["error"]["kind"].as_str(), body["error"]["received"].as_u64()), (Some("conflict"), Some(10_000)));
    // The device resumes where the server is, without resending the first chunk.
    let report = member.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    assert_eq!(report.photo_bytes_uploaded, (bytes.len() - 10_000) as u64);

    // A photo whose bytes are not its name, or not an image, is refused and not kept.
    let e2 = member.store.report_event(g.id, event("积水")).unwrap();
    let other = member.store.attach_photo(e2.id, &photo_file(dir.path(), "q.jpg", 800, 600), None, None).unwrap();
    member.store.sync(&server.remote(&token), &records_only).await.unwrap();
    let fake = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    let for_e2 = format!("e/{}/{}", g.id, e2.id);
    let url2 = format!("{}/v1/photos/{}?event={for_e2}&offset=0&total={}", server.url(), other.sha256, fake.len());
    let refused = http.put(url2).bearer_auth(&token).body(fake).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let status = http
        .get(format!("{}/v1/photos/{}/status?event={for_e2}", server.url(), other.sha256))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.bytes().await.unwrap()).unwrap();
    assert_eq!((status["received"].as_u64(), status["complete"].as_bool()), (Some(0), Some(false)));
    let too_big = format!("{}/v1/photos/{}?event={for_e2}&offset=0&total={}", server.url(), other.sha256, 50 << 20);
    assert_eq!(http.put(too_big).bearer_auth(&token).body(vec![0; 10]).send().await.unwrap().status(), 413);
    member.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
    assert_eq!(member.store.sync_status().unwrap().pending_photo_bytes, 0);
}
