//! Stopping the server lets a request in flight finish: a device halfway through sending its day's
//! work gets its answer, and what the answer acknowledges is stored.

mod common;

use std::time::Duration;

use common::{Harness, Phone, decode_response, grid};
use gridbook_core::sync::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_completes_during_a_graceful_shutdown() {
    let mut h = Harness::start().await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    let body = wire::compress(&phone.outbox().encode());

    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Gridbook-Actor: {}\r\n\
         Content-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        phone.store.actor(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopped = h.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopped.is_finished(), "the server waits for the request in flight");
    stream.write_all(rest).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await.unwrap().unwrap();
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let response = decode_response(&reply[split + 4..]);
    assert!(!response.more);
    tokio::time::timeout(Duration::from_secs(10), stopped).await.unwrap().unwrap().unwrap();
    assert_eq!(h.changes(), 1, "what the answer acknowledged is stored");
}
