//! Photos: uploaded in chunks that resume where the server's copy ends, checked against their name
//! when whole, and reachable only through an event they were uploaded for that is in the device's
//! scope; what a device may not see is answered as a photo that does not exist.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Phone, event, grid, jpeg};
use gridbook_core::StepAction;

struct Setup {
    h: Harness,
    member: Phone,
    token: String,
    sha: String,
    /// The event the photo is uploaded for, `e/{grid}/{event}`.
    event: String,
    bytes: Vec<u8>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let h = Harness::start().await;
    let member = Phone::new("王芳", "phone");
    let g = member.store.create_grid(grid("第一网格", "幸福村")).unwrap();
    let e = member.store.report_event(g.id, event("垃圾")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo = member.store.attach_photo(e.id, &jpeg(dir.path(), "p.jpg"), None, None).unwrap();
    let token = h.member("phone", &[&g]);
    h.sync(&token, &member).await.unwrap();
    // The centre dispatches it: only its dispatch gives a department the event.
    let centre = Phone::new("中心", "centre-dispatch");
    let centre_token = h.centre("centre-dispatch");
    h.sync(&centre_token, &centre).await.unwrap();
    centre.store.event_step(e.id, StepAction::Dispatch { department: "城管".into() }, "").unwrap();
    h.sync(&centre_token, &centre).await.unwrap();
    let bytes = member.store.photo(&photo.sha256).unwrap().unwrap();
    let event = format!("e/{}/{}", g.id, e.id);
    Setup { h, member, token, sha: photo.sha256, event, bytes, _dir: dir }
}

async fn json(r: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

impl Setup {
    async fn put(&self, token: &str, offset: usize, chunk: &[u8]) -> reqwest::Response {
        let (sha, event, total) = (&self.sha, &self.event, self.bytes.len());
        let url = self.h.url(&format!("/v1/photos/{sha}?event={event}&offset={offset}&total={total}"));
        self.h.http.put(url).bearer_auth(token).body(chunk.to_vec()).send().await.unwrap()
    }

    /// Declares a chunk of `size` bytes and returns the head of the answer, which comes before the
    /// chunk is sent.
    async fn oversized_chunk(&self, size: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.h.addr).await.unwrap();
        let head = format!(
            "PUT /v1/photos/{}?event={}&offset=0&total={} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Length: {size}\r\n\r\n",
            self.sha,
            self.event,
            self.bytes.len(),
            self.token
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut reply = vec![0; 4096];
        let n = stream.read(&mut reply).await.unwrap();
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    async fn json(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let r = self.h.http.get(self.h.url(path)).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), json(r).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_upload_resumes_from_the_middle() {
    let s = setup().await;
    let status_path = format!("/v1/photos/{}/status?event={}", s.sha, s.event);
    assert_eq!(s.json(&s.token, &status_path).await.1, serde_json::json!({"received": 0, "complete": false}));
    let half = s.bytes.len() / 2;
    assert_eq!(s.put(&s.token, 0, &s.bytes[..half]).await.status(), 200);

    // The connection dropped; the device asks where to resume, and a wrong offset is a conflict.
    let (_, status) = s.json(&s.token, &status_path).await;
    assert_eq!(status["received"].as_u64(), Some(half as u64));
    let wrong = s.put(&s.token, 0, &s.bytes[..half]).await;
    assert_eq!(wrong.status(), 409);
    let body = json(wrong).await;
    assert_eq!(
        (body["error"]["kind"].as_str(), body["error"]["received"].as_u64()),
        (Some("conflict"), Some(half as u64))
    );

    let done = json(s.put(&s.token, half, &s.bytes[half..]).await).await;
    assert_eq!(done, serde_json::json!({"received": s.bytes.len(), "complete": true}));
    // Complete: a repeated chunk is a no-op, and the photo comes back as it went up.
    assert_eq!(s.put(&s.token, 0, &s.bytes[..10]).await.status(), 200);
    let got = s.h.http.get(s.h.url(&format!("/v1/photos/{}", s.sha))).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), s.bytes);
    assert!(s.h.metrics().await.contains(&format!("gridbook_photo_bytes_in_total {}", s.bytes.len() + 10)));
    assert!(s.h.data_dir().join("photos").join(&s.sha).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_the_photo_are_refused_and_dropped() {
    let s = setup().await;
    let mut wrong = s.bytes.clone();
    let last = wrong.len() - 1;
    wrong[last] ^= 1;
    let refused = s.put(&s.token, 0, &wrong).await;
    assert_eq!(refused.status(), 400);
    let status_path = format!("/v1/photos/{}/status?event={}", s.sha, s.event);
    assert_eq!(s.json(&s.token, &status_path).await.1["received"].as_u64(), Some(0), "the partial copy is dropped");
    let big = s.h.url(&format!("/v1/photos/{}?event={}&offset=0&total={}", s.sha, s.event, 50 << 20));
    let too_big = s.h.http.put(big).bearer_auth(&s.token).body(vec![0; 10]).send().await.unwrap();
    assert_eq!(too_big.status(), 413);
    assert!(s.oversized_chunk(300 << 10).await.starts_with("HTTP/1.1 413"), "a chunk over 256 KiB");
    assert_eq!(s.put(&s.token, 0, &s.bytes).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_reachable_only_through_an_event_it_was_uploaded_for() {
    let s = setup().await;
    let photo = format!("/v1/photos/{}", s.sha);
    let get = |token: String| {
        let url = s.h.url(&photo);
        let http = s.h.http.clone();
        async move { http.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    // Referenced by an event in scope, but not uploaded yet: nothing to read.
    assert_eq!(get(s.token.clone()).await, 404);
    assert_eq!(s.put(&s.token, 0, &s.bytes).await.status(), 200);
    assert_eq!(s.json(&s.token, &format!("{photo}/status")).await.1["complete"], true);

    let stranger = Phone::new("李强", "other");
    let elsewhere = stranger.store.create_grid(grid("第二网格", "平安村")).unwrap();
    let other_token = s.h.member("other", &[&elsewhere]);
    let unknown = s.json(&other_token, &format!("/v1/photos/{}/status", "0".repeat(64))).await;
    assert_eq!(unknown.0, 404);
    assert_eq!(unknown.1["error"]["kind"], "not_found");
    assert_eq!(get(other_token.clone()).await, 404, "another grid's member");
    assert_eq!(s.put(&other_token, 0, &s.bytes[..10]).await.status(), 404, "an upload for an event out of scope");
    assert_eq!(s.json(&other_token, &format!("{photo}/status")).await, unknown, "answered as an unknown photo");
    let their_event = format!("{photo}/status?event={}", s.event);
    assert_eq!(s.json(&other_token, &their_event).await, unknown);

    assert_eq!(get(s.h.centre("centre")).await, 200);
    assert_eq!(get(s.h.department("dept", "城管")).await, 200, "the department the event went to");
    assert_eq!(get(s.h.department("dept-2", "水务")).await, 404);

    let r =
        s.h.http.get(s.h.url(&format!("/v1/photos/{}", "0".repeat(64)))).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let bad = s.h.http.get(s.h.url("/v1/photos/..%2f..%2fserver.sqlite3")).bearer_auth(&s.token).send().await.unwrap();
    assert!(bad.status() == 400 || bad.status() == 404, "{}", bad.status());
    let no_event = s.h.url(&format!("/v1/photos/{}?offset=0&total=10", s.sha));
    let r = s.h.http.put(no_event).bearer_auth(&s.token).body(vec![0; 10]).send().await.unwrap();
    assert_eq!(r.status(), 400, "an upload names its event");
    drop(s.member);
}
