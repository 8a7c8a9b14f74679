//! Bounded resources: whatever clients do, the server holds no more than its budgets. A body over
//! the request budget is refused unread, a header or body that does not arrive in time ends its
//! connection, a device has a few requests at once, and a device's client waits out a busy server
//! and completes its sync. Each test sets its limit small, so it runs in seconds.

// A failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Harness, Phone, grid};
use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A sync request that declares `len` body bytes and sends only `sent` of them, left open.
async fn held_request(h: &Harness, token: &str, len: usize, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(h.addr).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Gridbook-Actor: 00\r\n\
         Content-Length: {len}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![0u8; sent]).await.unwrap();
    stream
}

/// The answer's head and body on `stream`, within `wait` (a panic if none comes in time).
async fn answer_on(stream: &mut TcpStream, wait: Duration) -> (String, serde_json::Value) {
    let read = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            got.extend_from_slice(&buf[..n]);
            if let Some(split) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..split]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if got.len() >= split + 4 + length || n == 0 {
                    let body = serde_json::from_slice(&got[split + 4..]).unwrap_or_default();
                    return (head, body);
                }
            }
            assert!(n > 0, "the connection closed without an answer");
        }
    };
    tokio::time::timeout(wait, read).await.expect("an answer in time")
}

/// A gauge or counter from `/metrics`.
async fn metric(h: &Harness, name: &str) -> u64 {
    let text = h.metrics().await;
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0)
}

/// Waits until `name` reads `value`, or panics saying what it read.
async fn settles(h: &Harness, name: &str, value: u64) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let now = metric(h, name).await;
        if now == value {
            return;
        }
        assert!(Instant::now() < until, "{name} stays {now}, not {value}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const BODY_FREE: &str = "gridbook_request_budget_free_bytes";
const WORK_FREE: &str = "gridbook_work_budget_free_bytes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_past_the_budget_is_refused_unread_and_the_budget_returns_after() {
    let budget = 1 << 20;
    let config = ServerConfig { request_budget_bytes: budget, ..ServerConfig::default() };
    let work = config.work_budget_bytes as u64;
    let h = Harness::with_config(config).await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let (first, second, third) = (h.member("a", &[&g]), h.member("b", &[&g]), h.member("c", &[&g]));

    let holding = held_request(&h, &first, 768 << 10, 1 << 10).await;
    settles(&h, BODY_FREE, 256 << 10).await;
    // Not one byte of this body is sent: the answer comes without it.
    let mut refused = held_request(&h, &second, 512 << 10, 0).await;
    let (head, body) = answer_on(&mut refused, Duration::from_secs(10)).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"), "{head}");
    assert_eq!(body["error"]["kind"], "busy");
    // A body within the body limit but over the whole budget is refused too, not waited for.
    let mut big = held_request(&h, &third, 4 << 20, 0).await;
    assert!(answer_on(&mut big, Duration::from_secs(10)).await.0.starts_with("HTTP/1.1 503"));
    assert_eq!(metric(&h, BODY_FREE).await, 256 << 10, "a refused request holds nothing");

    drop(holding);
    settles(&h, BODY_FREE, budget as u64).await;
    settles(&h, WORK_FREE, work).await;
    h.sync(&first, &phone).await.unwrap();
    settles(&h, BODY_FREE, budget as u64).await;
    settles(&h, WORK_FREE, work).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_half_a_header_or_nothing_are_closed_after_the_header_timeout() {
    let timeout = Duration::from_millis(500);
    let h = Harness::with_config(ServerConfig { header_read_timeout: timeout, ..ServerConfig::default() }).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(h.addr).await.unwrap();
    let mut halves = Vec::new();
    for _ in 0..1000 {
        let mut stream = TcpStream::connect(h.addr).await.unwrap();
        stream.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
        halves.push(stream);
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a connection that sent nothing is still open");
    assert!(started.elapsed() >= timeout, "closed before its time");
    for (i, stream) in halves.iter_mut().enumerate() {
        let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "connection {i} with half a header is still open");
    }
    // The server still serves.
    let ok = h.http.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_is_ended_with_408_and_its_bytes_released() {
    let config = ServerConfig { body_read_timeout: Duration::from_secs(1), ..ServerConfig::default() };
    let budget = config.request_budget_bytes as u64;
    let h = Harness::with_config(config).await;
    let token = h.member("a", &[&Phone::new("王芳", "phone").store.create_grid(grid("第一网格", "幸福村")).unwrap()]);
    let mut trickling = held_request(&h, &token, 1000, 10).await;
    settles(&h, BODY_FREE, budget - 1000).await;
    let started = Instant::now();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trickling.write_all(&[0]).await.unwrap();
    }
    let (head, body) = answer_on(&mut trickling, Duration::from_secs(10)).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert_eq!(body["error"]["kind"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    settles(&h, BODY_FREE, budget).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_past_its_requests_in_flight_gets_429_while_others_proceed() {
    let config = ServerConfig { device_concurrency: 2, ..ServerConfig::default() };
    let budget = config.request_budget_bytes as u64;
    let h = Harness::with_config(config).await;
    let (busy, other) = (Phone::new("王芳", "phone"), Phone::new("李强", "phone"));
    let g = busy.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    other.store.create_grid(grid("第二网格", "幸福村")).unwrap();
    let (busy_token, other_token) = (h.member("busy", &[&g]), h.centre("other"));

    let held = [held_request(&h, &busy_token, 1000, 10).await, held_request(&h, &busy_token, 1000, 10).await];
    settles(&h, BODY_FREE, budget - 2000).await;
    let body = gridbook_core::sync::wire::compress(&busy.outbox().encode());
    let third = h
        .http
        .post(h.url("/v1/sync"))
        .bearer_auth(&busy_token)
        .header("x-gridbook-actor", busy.store.actor())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "1");
    let json: serde_json::Value = serde_json::from_slice(&third.bytes().await.unwrap()).unwrap();
    assert_eq!(json["error"]["kind"], "too_many_requests");
    h.sync(&other_token, &other).await.expect("another device is served meanwhile");

    drop(held);
    settles(&h, BODY_FREE, budget).await;
    h.sync(&busy_token, &busy).await.expect("the device is served again once its requests ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_waits_out_a_busy_server_and_completes_its_sync() {
    let budget = 64 << 10;
    let config = ServerConfig {
        request_budget_bytes: budget,
        body_read_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let h = Harness::with_config(config).await;
    let phone = Phone::new("王芳", "phone");
    let g = phone.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let token = h.member("phone", &[&g]);
    let hog = h.member("hog", &[&g]);

    // Another device's body takes the whole budget until its body read timeout ends it.
    let _hogging = held_request(&h, &hog, budget, 1).await;
    settles(&h, BODY_FREE, 0).await;
    let remote = Remote::new(&h.url(""), &token, &SyncOptions::default()).unwrap();
    let report = phone.store.sync(&remote, &SyncOptions::default()).await.expect("the sync completes");
    assert_eq!(report.changes_sent, 1);
    assert!(metric(&h, "gridbook_sync_errors_total{kind=\"busy\"}").await >= 1, "the server was busy at first");
    assert_eq!(h.changes(), 1);
}
