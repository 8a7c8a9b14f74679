//! Versions in the field: while the district moves its apps to a newer sync version, an app still
//! speaking an older one keeps syncing (version 3; version 5, whose uploads its key does not sign);
//! once the operator stops serving it, it is told to update (`426`), and so is any app older still.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Phone, decode_response, grid};
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::{self, Version};
use gridbook_server::{NewDevice, Role, ServerConfig};

/// A phone with a new grid, registered for it, and the body its app of version 3 would send.
async fn old_app(h: &Harness) -> (String, Phone, Vec<u8>) {
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    let body = wire::compress(&phone.outbox().encode_as(Version::V3));
    (token, phone, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_of_version_3_syncs_while_the_server_still_serves_it() {
    let h = Harness::start().await;
    let (token, phone, body) = old_app(&h).await;
    let reply = h.post(Some(&token), Some(&phone.store.actor()), body).await.unwrap();
    assert_eq!(&wire::decompress(&reply, &Default::default()).unwrap()[..4], b"GBP3", "answered in its version");
    assert!(decode_response(&reply).refused.is_empty());
    assert_eq!(h.changes(), 1, "its grid was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_older_than_the_oldest_version_served_is_told_to_update() {
    let h = Harness::with_config(ServerConfig { oldest_wire: Version::V4, ..ServerConfig::default() }).await;
    let (token, phone, body) = old_app(&h).await;
    let refused = h.post(Some(&token), Some(&phone.store.actor()), body.clone()).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (426, "outdated"));
    assert!(refused.message.contains("update the app"), "{}", refused.message);
    assert_eq!(h.changes(), 0);

    // Older still (no longer decodable at all): the same answer, at any oldest version.
    let mut ancient = wire::decompress(&body, &Default::default()).unwrap();
    ancient[3] = b'2';
    let older = Harness::start().await;
    let older_token = older.centre("phone");
    let refused =
        older.post(Some(&older_token), Some(&phone.store.actor()), wire::compress(&ancient)).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (426, "outdated"));

    // The current app syncs.
    let reply = h.exchange(&token, &phone.store.actor(), &phone.outbox()).await.unwrap();
    assert!(reply.refused.is_empty());
    assert_eq!(h.changes(), 1);
}

/// A phone with a new grid, enrolled with a one-time code as every app since version 5 is; its
/// token.
async fn enrolled_app(h: &Harness) -> (String, Phone) {
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let new = NewDevice {
        name: "phone".into(),
        role: Role::GridMember,
        grids: vec![g.id.to_string()],
        village: Some("幸福村".into()),
        department: None,
        holder: "王芳".into(),
    };
    let (_, code) = h.server.add_device_with_code(new).unwrap();
    let enrolment = phone.store.enrol(&h.url(""), &code, &SyncOptions::default()).await.unwrap();
    (enrolment.token, phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_app_of_version_5_uploads_unsigned_until_the_operator_serves_only_6() {
    for (oldest, served) in [(Version::V5, true), (Version::V6, false)] {
        let h = Harness::with_config(ServerConfig { oldest_wire: oldest, ..ServerConfig::default() }).await;
        let (token, phone) = enrolled_app(&h).await;
        let body = wire::compress(&phone.outbox().encode_as(Version::V5));
        let answer = h.post(Some(&token), Some(&phone.store.actor()), body).await;
        if served {
            let reply = answer.unwrap();
            assert_eq!(&wire::decompress(&reply, &Default::default()).unwrap()[..4], b"GBP5");
            assert_eq!(h.changes(), 1, "its grid was stored");
        } else {
            let refused = answer.unwrap_err();
            assert_eq!((refused.status, refused.kind.as_str()), (426, "outdated"));
            assert_eq!(h.changes(), 0);
            // Updated, the app signs its upload, and it is stored.
            let request = phone.outbox();
            assert!(request.signed.is_some());
            assert!(h.exchange(&token, &phone.store.actor(), &request).await.unwrap().refused.is_empty());
            assert_eq!(h.changes(), 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_of_version_8_syncs_with_a_server_of_version_9_and_is_answered_in_8() {
    let h = Harness::start().await;
    // A current app uploads its grid, signed; its proof is kept with it.
    let (token, phone) = enrolled_app(&h).await;
    assert!(h.exchange(&token, &phone.store.actor(), &phone.outbox()).await.unwrap().refused.is_empty());
    let grid = phone.store.grids().unwrap().remove(0);

    // An app of the previous version, of the same grid, syncs from the start.
    let old = Phone::new("李四", "old-phone");
    let old_token = h.member("old-phone", &[&grid]);
    let body = wire::compress(&old.outbox().encode_as(Version::V8));
    let reply = h.post(Some(&old_token), Some(&old.store.actor()), body).await.unwrap();
    let plain = wire::decompress(&reply, &Default::default()).unwrap();
    assert_eq!(&plain[..4], b"GBP8", "answered in its version");
    // Read to its end as version 8: no section of version 9 in it.
    let reply = wire::SyncResponse::decode(&plain, &Default::default()).unwrap();
    assert!(reply.refused.is_empty());
    assert_eq!(reply.docs.iter().map(|d| d.changes.len()).sum::<usize>(), 1, "the grid, as a version 8 app reads it");
}
