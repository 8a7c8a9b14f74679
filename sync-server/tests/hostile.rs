//! Bytes from the network are hostile until checked: malformed, truncated, oversized and bomb-shaped
//! bodies get a clear error, store nothing, and leave the server serving; a bad document name or a
//! change automerge refuses has its document refused and named (in version 3, the whole request).

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::{Harness, Phone, grid};
use gridbook_core::DocChanges;
use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{self, Refusal, SyncRequest, Version};
use gridbook_server::ServerConfig;

async fn setup(h: &Harness) -> (String, Phone, SyncRequest) {
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    let request = phone.outbox();
    (token, phone, request)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_truncated_bodies_are_refused() {
    let h = Harness::start().await;
    let (token, phone, request) = setup(&h).await;
    let actor = phone.store.actor();
    let good = wire::compress(&request.encode());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("neither zstd nor gzip", b"hello".to_vec()),
        ("empty", Vec::new()),
        ("gzip of garbage", gzip(b"GBQ9 nonsense")),
        ("zstd of garbage", wire::compress(b"GBQ9 nonsense")),
        ("truncated zstd", good[..good.len() / 2].to_vec()),
        ("truncated gzip", {
            let g = gzip(&request.encode());
            g[..g.len() / 2].to_vec()
        }),
        ("truncated message", gzip(&request.encode()[..request.encode().len() - 3])),
        ("trailing bytes", gzip(&[request.encode(), vec![0]].concat())),
    ];
    for (what, body) in cases {
        let refused = h.post(Some(&token), Some(&actor), body).await.unwrap_err();
        assert_eq!((refused.status, refused.kind.as_str()), (400, "malformed"), "{what}");
    }
    let bad_actor = h.post(Some(&token), Some("not hex"), good.clone()).await.unwrap_err();
    assert_eq!(bad_actor.status, 400);
    assert_eq!(h.changes(), 0);
    h.post(Some(&token), Some(&actor), good).await.unwrap();
    assert_eq!(h.changes(), 1, "the server still serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_document_names_and_refused_changes_store_nothing() {
    let h = Harness::start().await;
    let (token, phone, request) = setup(&h).await;
    let actor = phone.store.actor();
    let change = request.docs[0].changes[0].clone();
    let grid_doc = request.docs[0].doc.clone();

    let mut flipped = change.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let mut deflated = change.clone();
    deflated[8] = 2;
    let cases = [
        ("a bad name", DocChanges { doc: "x/y".into(), changes: vec![change.clone()] }),
        ("a name without a grid", DocChanges { doc: "g/not-a-uuid".into(), changes: vec![change.clone()] }),
        ("a corrupt change", DocChanges { doc: grid_doc.clone(), changes: vec![flipped] }),
        ("a compressed change", DocChanges { doc: grid_doc.clone(), changes: vec![deflated] }),
        (
            "not a change",
            DocChanges { doc: grid_doc.clone(), changes: vec![vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1]] },
        ),
    ];
    for (what, bad) in cases {
        // In version 3, the good change of the same request is not kept either.
        let both = SyncRequest { docs: vec![request.docs[0].clone(), bad.clone()], ..Default::default() };
        let old = h.post(Some(&token), Some(&actor), wire::compress(&both.encode_as(Version::V3)));
        let refused = old.await.unwrap_err();
        assert_eq!((refused.status, refused.kind.as_str()), (400, "malformed"), "{what}");
        assert_eq!(h.changes(), 0, "{what}");
        // Now the document is refused alone, by the name it was sent under, and nothing of it kept.
        let alone = SyncRequest { docs: vec![bad.clone()], ..Default::default() };
        let reply = h.exchange(&token, &actor, &alone).await.unwrap();
        assert_eq!(reply.refused, vec![Refusal { doc: bad.doc, reason: RefusalReason::Malformed }], "{what}");
        assert_eq!(h.changes(), 0, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_gzip_bombs_are_too_large() {
    let config = ServerConfig { max_body_bytes: 64 << 10, ..ServerConfig::default() };
    let h = Harness::with_config(config).await;
    let (token, phone, request) = setup(&h).await;
    let actor = phone.store.actor();

    let big = h.post(Some(&token), Some(&actor), vec![0x1f; 100 << 10]).await.unwrap_err();
    assert_eq!((big.status, big.kind.as_str()), (413, "too_large"));

    // 40 MiB of zeros in a body of a few dozen KiB: refused at the inflated-size limit, not inflated.
    let mut message = request.encode();
    message.resize(40 << 20, 0);
    let bomb = gzip(&message);
    assert!(bomb.len() < 64 << 10);
    let refused = h.post(Some(&token), Some(&actor), bomb).await.unwrap_err();
    assert_eq!((refused.status, refused.kind.as_str()), (413, "too_large"));

    // Too many documents.
    let docs = (0..5_001).map(|i| DocChanges { doc: format!("d{i}"), changes: vec![] }).collect();
    let many = h.exchange(&token, &actor, &SyncRequest { docs, ..Default::default() }).await.unwrap_err();
    assert_eq!(many.status, 413);
    assert_eq!(h.changes(), 0);
    h.exchange(&token, &actor, &request).await.unwrap();
    assert!(h.metrics().await.contains("gridbook_sync_errors_total{kind=\"too_large\"} 3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_oversized_body_is_refused_before_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = Harness::start().await;
    let token = h.centre("centre");
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Gridbook-Actor: 0a\r\nContent-Length: {}\r\n\r\n",
        1u64 << 30
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = vec![0; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut reply)).await.unwrap().unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("too_large"));
}

#[test]
fn every_truncation_and_bit_flip_of_a_request_is_an_error_not_a_panic() {
    let phone = Phone::new("王芳", "phone");
    phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let message = phone.outbox().encode();
    let limits = wire::Limits::default();
    assert!(gridbook_server::decode_request(&wire::compress(&message), &limits).is_ok());
    for cut in 0..message.len() {
        assert!(gridbook_server::decode_request(&wire::compress(&message[..cut]), &limits).is_err(), "cut at {cut}");
    }
    for i in 0..message.len() {
        let mut flipped = message.clone();
        flipped[i] ^= 0x5a;
        // Either decodes (a flip in a name's or a change's free bytes) or is refused; never a panic.
        let _ = gridbook_server::decode_request(&wire::compress(&flipped), &limits);
    }
}
