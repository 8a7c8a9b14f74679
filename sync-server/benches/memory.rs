//! The server's memory under hostile concurrency: many authenticated devices open sync requests of
//! about the largest body allowed, send all but the last byte and hold them, while a legitimate
//! grid member runs its normal sync. Reports the server process's peak resident memory (VmHWM)
//! against the 1 GiB target, how many held requests were admitted or refused, and whether (and how
//! fast) the legitimate sync completed.
//!
//! `cargo bench -p gridbook-server --bench memory` (`ATTACKS=…` requests, spread over
//! `ATTACKERS=…` devices).

mod common;

use std::time::{Duration, Instant};

use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_core::{NewGrid, NewHousehold, NewVisit, Store, StoreConfig, VisitKind};
use gridbook_server::{NewDevice, Role, Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TARGET_BYTES: u64 = 1 << 30;

/// What became of one held request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// All but its last byte sent and no answer: the server holds it.
    Holding,
    /// Answered before its body was in, with this status.
    Refused(u16),
    /// Cut off without an answer.
    Dropped,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn register(admin: &Server, name: String, grid: String) -> String {
    let new = NewDevice {
        name,
        role: Role::GridMember,
        grids: vec![grid],
        village: Some("幸福村".into()),
        department: None,
        holder: String::new(),
    };
    admin.add_device(new).expect("registered").1
}

/// Sends a sync request of `len` declared bytes but its last, then waits briefly for an answer.
async fn hold(addr: String, token: String, len: usize) -> (Held, TcpStream) {
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nX-Gridbook-Actor: 00\r\n\
         Content-Length: {len}\r\n\r\n"
    );
    let block = vec![0x55u8; 64 << 10];
    let send = async {
        stream.write_all(head.as_bytes()).await?;
        let mut left = len - 1;
        while left > 0 {
            let n = left.min(block.len());
            stream.write_all(&block[..n]).await?;
            left -= n;
        }
        stream.flush().await
    };
    let sent = tokio::time::timeout(Duration::from_secs(60), send).await;
    let mut answer = [0u8; 16];
    let held = match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut answer)).await {
        Ok(Ok(n)) if n >= 12 => {
            Held::Refused(std::str::from_utf8(&answer[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0))
        }
        Ok(_) => Held::Dropped,
        Err(_) if matches!(sent, Ok(Ok(()))) => Held::Holding,
        Err(_) => Held::Dropped,
    };
    (held, stream)
}

#[tokio::main]
async fn main() {
    let attacks = env("ATTACKS", 160);
    let attackers = env("ATTACKERS", 40).max(1);
    let body = ServerConfig::default().max_body_bytes;
    let data = tempfile::tempdir().expect("dir");
    let admin = Server::open(data.path(), ServerConfig::default()).expect("server data");

    // The legitimate grid member and its day: a household and a few visits.
    let phone_dir = tempfile::tempdir().expect("dir");
    let phone = Store::open(phone_dir.path(), StoreConfig::new("王芳", "phone")).expect("store");
    let grid = phone
        .create_grid(NewGrid {
            name: "第一网格".into(), village: "幸福村".into(), township: "城关街道".into()
        })
        .expect("grid");
    let home = phone
        .add_household(grid.id, NewHousehold { address: "1号".into(), head_name: "张三".into(), ..Default::default() })
        .expect("home");
    for v in 0..20 {
        let visit = NewVisit {
            kind: VisitKind::Home,
            at: None,
            purposes: vec!["安全检查".into()],
            notes: format!("第{v}次走访"),
            satisfaction: None,
        };
        phone.record_visit(home.id, visit).expect("visit");
    }
    let legit = register(&admin, "legit".into(), grid.id.to_string());
    let tokens: Vec<String> =
        (0..attackers).map(|n| register(&admin, format!("attacker-{n}"), uuid::Uuid::now_v7().to_string())).collect();

    let (mut server, addr) = common::serve(data.path());
    let pid = server.id();
    let idle_kb = common::status_kb(pid, "VmRSS:");

    let started = Instant::now();
    let tasks: Vec<_> =
        (0..attacks).map(|n| tokio::spawn(hold(addr.clone(), tokens[n % attackers].clone(), body))).collect();
    let mut held = Vec::new();
    for task in tasks {
        held.push(task.await.expect("task"));
    }
    let count = |what: Held| held.iter().filter(|(h, _)| *h == what).count();
    let holding = count(Held::Holding);
    let busy = count(Held::Refused(503));
    let too_many = count(Held::Refused(429));
    let other = attacks - holding - busy - too_many;
    eprintln!("{attacks} held requests in place after {:.1?}", started.elapsed());
    let holding_kb = common::status_kb(pid, "VmRSS:");

    let remote = Remote::new(&format!("http://{addr}"), &legit, &SyncOptions::default()).expect("remote");
    let t = Instant::now();
    let synced = phone.sync(&remote, &SyncOptions::default()).await;
    let latency = t.elapsed();
    let peak_kb = common::status_kb(pid, "VmHWM:");
    drop(held);
    let _ = server.kill();
    let _ = server.wait();

    println!(
        "| held requests | body each | holding | refused 503 | refused 429 | other | server RSS idle | RSS holding | \
         server peak RSS | target | legit sync | legit latency |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {attacks} over {attackers} devices | {} MiB | {holding} | {busy} | {too_many} | {other} | {:.0} MiB | \
         {:.0} MiB | {:.0} MiB | {} MiB ({}) | {} | {:.0} ms |",
        body >> 20,
        idle_kb as f64 / 1024.0,
        holding_kb as f64 / 1024.0,
        peak_kb as f64 / 1024.0,
        TARGET_BYTES >> 20,
        if peak_kb * 1024 < TARGET_BYTES { "met" } else { "MISSED" },
        match &synced {
            Ok(r) => format!("ok, {} changes up", r.changes_sent),
            Err(e) => format!("failed: {e}"),
        },
        latency.as_secs_f64() * 1e3
    );
}
