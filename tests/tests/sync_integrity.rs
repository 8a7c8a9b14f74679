//! A byte flipped on the way: a device's real request (a household, a visit, an event with a photo)
//! sent to a real server with one byte flipped — at positions across the whole body, in zstd as
//! devices send it and in gzip as tools do — is refused or harmless, and afterwards both devices
//! sync normally and hold the same data, the photo's hash included. Without a checksum a flip inside
//! a change was stored as a valid change with another hash: the event's photo changed for everyone
//! and its author could never sync again.

use gridbook_core::sync::wire::{Codec, compress_as};
use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_core::{Event, NewEvent, NewHousehold, NewVisit, Page, Urgency, VisitKind};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

/// How many flipped bodies are sent per codec, spread evenly over the body.
const FLIPS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_a_request_is_refused_or_harmless_and_devices_still_converge() {
    let server = TestServer::start().await;
    let author = Device::new("王芳", "phone-wang");
    let g = author.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let author_token = server.grid_member("phone-wang", &[&g]);
    let colleague = Device::new("李强", "phone-li");
    let colleague_remote = server.remote(&server.grid_member("phone-li", &[&g]));

    let home = author
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let visit = NewVisit {
        kind: VisitKind::Home,
        at: None,
        purposes: vec!["走访慰问".into()],
        notes: "老人独居，身体尚可".into(),
        satisfaction: None,
    };
    author.store.record_visit(home.id, visit).unwrap();
    let event = NewEvent {
        category: "市政设施".into(),
        title: "路灯不亮".into(),
        description: "村口第三盏".into(),
        location: None,
        household_id: Some(home.id),
        urgency: Urgency::Routine,
    };
    let event = author.store.report_event(g.id, event).unwrap();
    let photos = tempfile::tempdir().unwrap();
    let photo =
        author.store.attach_photo(event.id, &photo_file(photos.path(), "lamp.jpg", 320, 240), None, None).unwrap();

    // The body exactly as the device's sync would send it.
    let plain = author.store.prepare_sync(usize::MAX).unwrap().request.encode();
    let http = reqwest::Client::new();
    let (mut accepted, mut damaged) = (0, 0);
    for codec in [Codec::Zstd, Codec::Gzip] {
        let body = compress_as(codec, &plain);
        for i in 0..FLIPS {
            let mut flipped = body.clone();
            flipped[i * body.len() / FLIPS] ^= 1 << (i % 8);
            let reply = http
                .post(format!("{}/v1/sync", server.url()))
                .bearer_auth(&author_token)
                .header("X-Gridbook-Actor", author.store.actor())
                .header("Content-Encoding", codec.content_encoding())
                .body(flipped)
                .send()
                .await
                .unwrap();
            let status = reply.status().as_u16();
            let text = reply.text().await.unwrap();
            match status {
                200 => accepted += 1,
                400 => damaged += usize::from(text.contains("damaged in transit")),
                // Refused for what the flip made of it (a grid outside the scope, a size): harmless.
                401..500 => {}
                _ => panic!("{codec:?} flip {i}: {status} {text}"),
            }
        }
    }
    assert!(damaged > FLIPS, "most flips are reported as damage in transit ({damaged}; {accepted} accepted)");

    // Whatever the server took from the flipped bodies, the real syncs that follow complete and agree.
    let options = SyncOptions { photos: true, ..SyncOptions::default() };
    let author_remote: Remote = server.remote(&author_token);
    author.store.sync(&author_remote, &options).await.unwrap();
    colleague.store.sync(&colleague_remote, &options).await.unwrap();
    author.store.sync(&author_remote, &options).await.unwrap();
    colleague.store.sync(&colleague_remote, &options).await.unwrap();

    let seen: Event = colleague.store.event(event.id).unwrap();
    assert_eq!(seen.photos.iter().map(|p| &p.sha256).collect::<Vec<_>>(), vec![&photo.sha256], "the photo's hash");
    assert_eq!(author.store.event(event.id).unwrap().photos, seen.photos);
    assert_eq!((seen.title.as_str(), seen.description.as_str()), ("路灯不亮", "村口第三盏"));
    let households = |d: &Device| d.store.households(g.id, true, Page::ALL).unwrap();
    assert_eq!(households(&colleague), households(&author));
    assert_eq!(colleague.store.visits_of(home.id).unwrap(), author.store.visits_of(home.id).unwrap());
    assert_eq!(colleague.store.visits_of(home.id).unwrap().len(), 1);
    for device in [&author, &colleague] {
        let status = device.store.sync_status().unwrap();
        assert_eq!((status.pending_changes, status.last_error), (0, None), "nothing stuck");
    }
}
