//! Faults: a connection dropped at every point of a sync (before the request, during the upload,
//! after the server committed but before the reply arrived, in the middle of a photo), a server
//! restarted mid-sync, and malformed or oversized requests. Each time the next sync completes, and
//! nothing is lost or stored twice.

use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::compress;
use gridbook_core::{Error, HouseholdEdit, NewHousehold, Page};
use gridbook_e2e::proxy::{Cut, Proxy};
use gridbook_e2e::{Device, TestServer, grid, photo_file};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_cut_at_any_point_completes_next_time_without_loss_or_duplicates() {
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr()).await;
    // Small photo chunks, so that cuts land between chunks as well as inside them.
    let options = SyncOptions { chunk: 16 << 10, ..SyncOptions::default() };
    let member = Device::new("王芳", "phone-wang");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = server.grid_member("phone-wang", &[&g]);
    let through_proxy = server.remote_at(&proxy.url(), &token);
    let photos = tempfile::tempdir().unwrap();
    let home = member
        .store
        .add_household(
            g.id,
            NewHousehold { address: "幸福村一组1号".into(), head_name: "张三".into(), ..Default::default() },
        )
        .unwrap();
    let event = member
        .store
        .report_event(
            g.id,
            gridbook_core::NewEvent {
                category: "环境卫生".into(),
                title: "垃圾堆放".into(),
                description: String::new(),
                location: None,
                household_id: None,
                urgency: gridbook_core::Urgency::Routine,
            },
        )
        .unwrap();

    // A colleague works the same grid, so that replies carry real changes to cut into too.
    member.store.sync(&through_proxy, &options).await.unwrap();
    let colleague = Device::new("李强", "phone-li");
    let colleague_remote = server.remote(&server.grid_member("phone-li", &[&g]));
    colleague.store.sync(&colleague_remote, &options).await.unwrap();

    let cuts = [0, 1, 40, 200, 700, 2_000, 6_000, 20_000, 60_000, 150_000];
    let (mut fired_up, mut fired_down) = (0, 0);
    for (i, at) in cuts.iter().flat_map(|&n| [Cut::Up(n), Cut::Down(n)]).enumerate() {
        // Each round has something new: an edit, and every third round a photo.
        member
            .store
            .edit_household(home.id, HouseholdEdit { notes: Some(format!("第{i}次走访记录")), ..Default::default() })
            .unwrap();
        member
            .store
            .add_household(
                g.id,
                NewHousehold {
                    address: format!("幸福村二组{i}号"), head_name: "李四".into(), ..Default::default()
                },
            )
            .unwrap();
        let notes = format!("第{i}轮：{}", "老人独居，子女在外地，每周电话联系一次。".repeat(40));
        colleague
            .store
            .add_household(
                g.id,
                NewHousehold {
                    address: format!("幸福村三组{i}号"),
                    head_name: "王五".into(),
                    notes,
                    ..Default::default()
                },
            )
            .unwrap();
        colleague.store.sync(&colleague_remote, &options).await.unwrap();
        if i % 3 == 0 {
            let file = photo_file(photos.path(), &format!("p{i}.jpg"), 1600 + i as u32, 1200);
            member.store.attach_photo(event.id, &file, None, None).unwrap();
        }
        proxy.cut(at);
        // The device retries a cut request by itself; either that completes the sync, or the sync
        // reports the network error and the next one completes it.
        let cut = member.store.sync(&through_proxy, &options).await;
        if proxy.traffic().2 {
            match at {
                Cut::Up(_) => fired_up += 1,
                Cut::Down(_) => fired_down += 1,
            }
        }
        if let Err(e) = cut {
            assert!(matches!(e, Error::Network(_)), "cut {at:?} gives a network error, got {e}");
        }
        member.store.sync(&through_proxy, &options).await.unwrap_or_else(|e| panic!("after cut {at:?}: {e}"));
        let status = member.store.sync_status().unwrap();
        assert_eq!((status.pending_changes, status.pending_photo_bytes), (0, 0), "after cut {at:?}");
    }
    // Cuts past the end of a small sync's traffic do not fire; the rest must have.
    assert!(fired_up >= 5 && fired_down >= 5, "cuts fired: {fired_up} up, {fired_down} down");

    // Another device sees exactly what the member has, and every photo is whole on the server.
    let observer = Device::new("赵敏", "phone-zhao");
    let observer_remote = server.remote(&server.grid_member("phone-zhao", &[&g]));
    observer.store.sync(&observer_remote, &options).await.unwrap();
    assert_eq!(observer.store.dump_query_tables().unwrap(), member.store.dump_query_tables().unwrap());
    let everything = member.store.changes_since(&Default::default()).unwrap().change_count();
    assert_eq!(server.change_count().await, everything, "every change stored once");
    for photo in member.store.event(event.id).unwrap().photos {
        let fetched = observer.store.fetch_photo(&observer_remote, &photo.sha256).await.unwrap();
        assert_eq!(fetched, member.store.photo(&photo.sha256).unwrap().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restarted_mid_sync_loses_nothing() {
    let mut server = TestServer::start().await;
    let member = Device::new("王芳", "phone-wang");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    for i in 0..300 {
        member
            .store
            .add_household(
                g.id,
                NewHousehold { address: format!("幸福村{i}号"), head_name: "张三".into(), ..Default::default() },
            )
            .unwrap();
    }
    let remote = server.remote(&server.grid_member("phone-wang", &[&g]));
    // Tiny batches: many rounds, so the restart falls in the middle.
    let options = SyncOptions { budget: 2_000, ..SyncOptions::default() };
    let syncing = {
        let store = &member.store;
        let remote = remote.clone();
        let options = options.clone();
        async move { store.sync(&remote, &options).await }
    };
    let (first, ()) = tokio::join!(syncing, async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        server.restart().await;
    });
    if let Err(e) = &first {
        assert!(matches!(e, Error::Network(_)), "a restart is a network error to the device, got {e}");
    }
    member.store.sync(&remote, &options).await.unwrap();
    assert_eq!(member.store.sync_status().unwrap().pending_changes, 0);
    let observer = Device::new("李强", "phone-li");
    observer.store.sync(&server.remote(&server.grid_member("phone-li", &[&g])), &options).await.unwrap();
    assert_eq!(observer.store.households(g.id, false, Page::ALL).unwrap().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_are_refused_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let member = Device::new("王芳", "phone-wang");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = server.grid_member("phone-wang", &[&g]);
    let mut truncated = compress(&gridbook_core::sync::wire::SyncRequest::default().encode());
    truncated.truncate(truncated.len() / 2);
    // A gzip bomb: a few kilobytes that inflate to a gigabyte.
    let bomb = compress(&vec![0u8; 256 << 20]);
    let bodies: [(&str, Vec<u8>); 4] =
        [("empty", Vec::new()), ("not gzip", b"hello".to_vec()), ("truncated", truncated), ("gzip bomb", bomb)];
    for (what, body) in bodies {
        let refused = server.raw_body(&token, &body).await;
        assert!(matches!(refused, Err(Error::Protocol(_))), "{what}: got {refused:?}");
    }
    let bad_change = gridbook_core::sync::wire::SyncRequest {
        cursor: vec![],
        docs: vec![gridbook_core::DocChanges {
            doc: format!("g/{}", g.id),
            changes: vec![vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]],
        }],
        ..Default::default()
    };
    let answered = server.raw_sync(&token, &member.store.actor(), &bad_change).await.expect("answered");
    let reasons: Vec<_> = answered.refused.iter().map(|r| r.reason).collect();
    assert_eq!(reasons, [gridbook_core::sync::RefusalReason::Malformed], "a change automerge refuses: its document");
    // Oversized: refused from its declared size, before the body is read.
    let (status, body) = server.raw_oversized(&token, 40 << 20).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"too_large\""), "a JSON error with a stable kind: {body}");
    member.store.sync(&server.remote(&token), &SyncOptions::default()).await.unwrap();
}

/// A server that answers every request as a district server does to an app older than it serves:
/// `426` with the kind `outdated`.
async fn server_for_newer_apps() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 8192];
            // The whole request first (its header, then the body it declares), then the answer.
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let declared = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + declared {
                        break;
                    }
                }
            }
            let body = r#"{"error":{"kind":"outdated","message":"this app is too old for the district's server: update the app"}}"#;
            let answer = format!(
                "HTTP/1.1 426 Upgrade Required\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_too_old_for_its_server_is_told_to_update_and_keeps_its_work() {
    let url = server_for_newer_apps().await;
    let member = Device::new("王芳", "phone-wang");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    member
        .store
        .add_household(g.id, NewHousehold { address: "1号".into(), head_name: "张三".into(), ..Default::default() })
        .unwrap();
    let pending = member.store.sync_status().unwrap().pending_changes;
    let remote = gridbook_core::sync::Remote::new(&url, "gbt_default_00", &SyncOptions::default()).unwrap();
    match member.store.sync(&remote, &SyncOptions::default()).await {
        Err(e @ Error::Outdated(_)) => {
            assert!(e.to_string().contains("update the app"), "the app can show it: {e}");
            assert_eq!(e.kind(), gridbook_core::ErrorKind::Protocol);
        }
        other => panic!("expected the app to be told to update: {other:?}"),
    }
    assert_eq!(member.store.sync_status().unwrap().pending_changes, pending, "nothing is lost");
}
