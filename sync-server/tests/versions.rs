//! Versions in the field: while the district moves its apps to sync version 4, an app still speaking
//! version 3 keeps syncing; once the operator stops serving 3, it is told to update (`426`), and so
//! is any app older still.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Phone, decode_response, grid};
use gridbook_core::sync::wire::{self, Version};
use gridbook_server::ServerConfig;

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
