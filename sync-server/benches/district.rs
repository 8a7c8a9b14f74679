//! Day's end for a district: 2,000 grid members' phones, each enrolled with its own key and with its
//! day (40 visits, 20 curtain-check records, 10 ledger edits, 5 events) signed by it, sync at once
//! against one server process on this machine over loopback, with a village's year of history
//! already on the server. Reports total time, errors, request latency percentiles, the server's
//! peak memory and its CPU per request.
//!
//! `cargo bench -p gridbook-server --bench district` (set `DEVICES=200` for a quicker run)

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gridbook_core::demo::{self, VillageSpec};
use gridbook_core::sync::wire::{Codec, compress};
use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_core::{
    Day, Durability, FixedClock, HouseholdEdit, NewEvent, NewGrid, NewHousehold, NewRoutine, NewVisit, SignalKind,
    Store, StoreConfig, Urgency, VisitKind,
};
use gridbook_server::{NewDevice, Role, Server, ServerConfig};

struct Phone {
    token: String,
    actor: String,
    body: Vec<u8>,
}

fn config(user: &str) -> StoreConfig {
    let mut c = StoreConfig::new(user, "phone");
    c.durability = Durability::Normal;
    c.clock = Arc::new(FixedClock(chrono::Utc::now()));
    c
}

/// One grid member's phone with its own grid, enrolled with a one-time code at the server of `url`
/// (so its key signs what it uploads), and the day's work, as the request it will send.
fn phone(admin: &Server, url: &str, n: usize) -> Phone {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path(), config(&format!("网格员{n}"))).expect("store");
    let grid = store
        .create_grid(NewGrid {
            name: format!("第{n}网格"),
            village: format!("村{}", n / 20),
            township: "城关街道".into(),
        })
        .expect("grid");
    let homes: Vec<_> = (0..10)
        .map(|h| {
            store
                .add_household(
                    grid.id,
                    NewHousehold { address: format!("{h}号"), head_name: "张三".into(), ..Default::default() },
                )
                .expect("home")
        })
        .collect();
    let elder = store
        .add_resident(
            homes[0].id,
            gridbook_core::NewResident {
                name: "李秀英".into(),
                id_number: None,
                gender: Some(gridbook_core::Gender::Female),
                birth_date: chrono::NaiveDate::from_ymd_opt(1940, 1, 1),
                relation: gridbook_core::Relation::Head,
                phone: None,
                registration: gridbook_core::Registration::Registered,
                care_tags: Default::default(),
            },
        )
        .expect("resident");
    let routine = NewRoutine {
        signal: SignalKind::Curtains,
        deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).expect("time"),
        days: Day::ALL.into_iter().collect(),
        note: String::new(),
    };
    let routine = store.add_routine(elder.id, routine).expect("routine");
    let (token, actor) = {
        let (_, code) = admin
            .add_device_with_code(NewDevice {
                name: format!("phone-{n}"),
                role: Role::GridMember,
                grids: vec![grid.id.to_string()],
                village: Some(grid.village.clone()),
                department: None,
                holder: format!("网格员{n}"),
            })
            .expect("registered");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let enrolment = runtime.block_on(store.enrol(url, &code, &SyncOptions::default())).expect("enrolled");
        (enrolment.token, store.actor())
    };
    // Yesterday's sync already carried the grid: only the day goes up today.
    let prepared = store.prepare_sync(usize::MAX).expect("prepare");
    store.finish_sync(&prepared, Default::default()).expect("acknowledged");
    for v in 0..40 {
        let visit = NewVisit {
            kind: VisitKind::Home,
            at: None,
            purposes: vec!["安全检查".into()],
            notes: format!("第{v}次走访，一切正常"),
            satisfaction: None,
        };
        store.record_visit(homes[v % 10].id, visit).expect("visit");
    }
    for _ in 0..20 {
        store.record_sighting(routine.id, None, None, "").expect("sighting");
    }
    for (i, h) in homes.iter().enumerate() {
        store
            .edit_household(h.id, HouseholdEdit { notes: Some(format!("第{i}户：子女每周来电")), ..Default::default() })
            .expect("edit");
    }
    for e in 0..5 {
        let new = NewEvent {
            category: "市政设施".into(),
            title: format!("{e}号路灯不亮"),
            description: "连续三晚不亮".into(),
            location: None,
            household_id: None,
            urgency: Urgency::Routine,
        };
        store.report_event(grid.id, new).expect("event");
    }
    let request = store.prepare_sync(usize::MAX).expect("prepare").request;
    assert!(request.signed.is_some(), "the phone signs its day, and the server verifies it");
    Phone { token, actor, body: compress(&request.encode()) }
}

/// The CPU time a process has used, user and system, in seconds. `/proc` counts it in USER_HZ ticks,
/// which Linux fixes at 100 a second on every architecture this runs on.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

#[tokio::main]
async fn main() {
    let devices: usize = std::env::var("DEVICES").ok().and_then(|d| d.parse().ok()).unwrap_or(2000);
    let data = tempfile::tempdir().expect("dir");
    let admin = Server::open(data.path(), ServerConfig::default()).expect("server data");

    // A village's year of history, uploaded by the centre before the day.
    let started = Instant::now();
    let village = tempfile::tempdir().expect("dir");
    demo::build(village.path(), config("中心"), &VillageSpec::bench()).expect("village");
    let centre = Store::open(village.path(), config("中心")).expect("centre");
    let (_, centre_token) = admin
        .add_device(NewDevice {
            name: "centre".into(),
            role: Role::Centre,
            grids: vec![],
            village: None,
            department: None,
            holder: String::new(),
        })
        .expect("centre");

    let (mut server, addr) = common::serve(data.path());
    let url = format!("http://{addr}");
    let remote = Remote::new(&url, &centre_token, &SyncOptions::default()).expect("remote");
    centre.sync(&remote, &SyncOptions { budget: 4 << 20, ..SyncOptions::default() }).await.expect("history up");
    let history = admin.change_count().expect("count");
    eprintln!("history: {history} changes on the server ({:.0?})", started.elapsed());

    let started = Instant::now();
    let phones: Vec<Phone> = std::thread::scope(|s| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                let (admin, url) = (&admin, &url);
                s.spawn(move || {
                    (0..devices).filter(|n| n % 2 == half).map(|n| phone(admin, url, n)).collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().expect("phones")).collect()
    });
    let up: usize = phones.iter().map(|p| p.body.len()).sum();
    eprintln!(
        "{devices} phones prepared in {:.0?}; {:.0} bytes up per phone",
        started.elapsed(),
        up as f64 / devices as f64
    );

    // Phones do not all press "sync" in the same millisecond: at most this many are mid-request.
    let concurrency: usize = std::env::var("CONCURRENCY").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
    let cpu_before = cpu_seconds(server.id());
    let clients_cpu_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let tasks: Vec<_> = phones
        .into_iter()
        .map(|p| {
            let http = http.clone();
            let url = format!("{url}/v1/sync");
            let gate = gate.clone();
            tokio::spawn(async move {
                let _turn = gate.acquire_owned().await.expect("gate");
                let t = Instant::now();
                // A sync is done when the reply is read, as a phone reads it.
                let reply = http
                    .post(url)
                    .bearer_auth(&p.token)
                    .header("X-Gridbook-Actor", &p.actor)
                    .header("Content-Encoding", Codec::Zstd.content_encoding())
                    .body(p.body)
                    .send()
                    .await;
                let ok = match reply {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                (t.elapsed(), ok)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (latency, ok) = t.await.expect("task");
        latencies.push(latency.as_secs_f64() * 1e3);
        errors += usize::from(!ok);
    }
    let total = started.elapsed();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let peak = common::status_kb(server.id(), "VmHWM:");
    let server_cpu = cpu_seconds(server.id()) - cpu_before;
    let clients_cpu = cpu_seconds(std::process::id()) - clients_cpu_before;
    let _ = server.kill();
    let _ = server.wait();
    println!(
        "| devices | in flight | history on server | total | errors | median | p99 | server peak memory | server CPU per request |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {devices} | {concurrency} | {history} changes | {:.1} s | {errors} | {:.0} ms | {:.0} ms | {:.0} MB | {:.2} ms |",
        total.as_secs_f64(),
        pct(50),
        pct(99),
        peak as f64 / 1024.0,
        server_cpu * 1e3 / devices as f64
    );
    println!(
        "the {devices} simulated phones (this process, on the same cores) used {:.2} ms of CPU per request",
        clients_cpu * 1e3 / devices as f64
    );
    println!("stored after the day: {} changes", admin.change_count().expect("count"));
}
