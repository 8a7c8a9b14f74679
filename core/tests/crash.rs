//! Durability: a phone's app is killed at any moment. A child process writes and acknowledges each
//! write only after the call returned; the parent kills it with SIGKILL at random points — 200
//! times, with `synchronous=FULL` and `NORMAL` — reopens the store, and finds every acknowledged
//! write present, `PRAGMA integrity_check` ok, and the query tables equal to a rebuild.
//!
//! The child is this same test binary, re-run with an environment variable that makes
//! `child_process_for_crash_test` write instead of returning.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use gridbook_core::{
    Durability, EventId, HouseholdId, NewEvent, NewHousehold, NewVisit, ResidentId, Store, StoreConfig, Urgency,
    VisitId, VisitKind,
};
use rand::{Rng, SeedableRng};

const CHILD_DIR: &str = "GRIDBOOK_CRASH_CHILD_DIR";
const CHILD_GRID: &str = "GRIDBOOK_CRASH_CHILD_GRID";
const CHILD_DURABILITY: &str = "GRIDBOOK_CRASH_CHILD_DURABILITY";

fn config(durability: Durability) -> StoreConfig {
    let mut c = StoreConfig::new("王芳", "phone");
    c.durability = durability;
    c
}

/// In the child: writes until killed, printing `kind id` after each write returned.
#[test]
fn child_process_for_crash_test() {
    let (Ok(dir), Ok(grid), Ok(durability)) =
        (std::env::var(CHILD_DIR), std::env::var(CHILD_GRID), std::env::var(CHILD_DURABILITY))
    else {
        // Run by the harness itself rather than by the crash test: nothing to do.
        return;
    };
    let durability = if durability == "full" { Durability::Full } else { Durability::Normal };
    let store = Store::open(&dir, config(durability)).unwrap();
    let grid = grid.parse().unwrap();
    let mut out = std::io::stdout().lock();
    let mut home: Option<HouseholdId> = None;
    for i in 0..100_000u32 {
        let line = match (i % 4, home) {
            (0, _) | (_, None) => {
                let h = store
                    .add_household(
                        grid,
                        NewHousehold {
                            address: format!("一组{i}号"), head_name: "张三".into(), ..Default::default()
                        },
                    )
                    .unwrap();
                home = Some(h.id);
                format!("h {}", h.id)
            }
            (1, Some(h)) => {
                // No ID number: every child counts from 0 again, and the store takes a number once.
                let new = gridbook_core::NewResident {
                    id_number: None,
                    gender: Some(gridbook_core::Gender::Male),
                    birth_date: chrono::NaiveDate::from_ymd_opt(1960, 1, 1),
                    ..common::resident(&format!("李{i}"), "19600101", true)
                };
                let r = store.add_resident(h, new).unwrap();
                format!("r {}", r.id)
            }
            (2, Some(h)) => {
                let new = NewVisit {
                    kind: VisitKind::Home,
                    at: None,
                    purposes: vec![],
                    notes: format!("{i}"),
                    satisfaction: None,
                };
                let v = store.record_visit(h, new).unwrap();
                format!("v {} {}", h, v.id)
            }
            _ => {
                let new = NewEvent {
                    category: "环境卫生".into(),
                    title: format!("事件{i}"),
                    description: String::new(),
                    location: None,
                    household_id: home,
                    urgency: Urgency::Routine,
                };
                format!("e {}", store.report_event(grid, new).unwrap().id)
            }
        };
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    }
}

#[derive(Debug)]
enum Ack {
    Household(HouseholdId),
    Resident(ResidentId),
    Visit(HouseholdId, VisitId),
    Event(EventId),
}

fn parse(line: &str) -> Option<Ack> {
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let id = parts.next()?;
    Some(match kind {
        "h" => Ack::Household(id.parse().ok()?),
        "r" => Ack::Resident(id.parse().ok()?),
        "v" => Ack::Visit(id.parse().ok()?, parts.next()?.parse().ok()?),
        "e" => Ack::Event(id.parse().ok()?),
        _ => return None,
    })
}

fn present(store: &Store, ack: &Ack) -> bool {
    match ack {
        Ack::Household(id) => store.household(*id).is_ok(),
        Ack::Resident(id) => store.resident(*id).is_ok(),
        Ack::Visit(h, v) => store.visits_of(*h).is_ok_and(|all| all.iter().any(|x| x.id == *v)),
        Ack::Event(id) => store.event(*id).is_ok(),
    }
}

fn integrity_ok(dir: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(dir.join("gridbook.db")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap() == "ok"
}

#[test]
fn acknowledged_writes_survive_two_hundred_kills() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Store::open(dir.path(), config(Durability::Full)).unwrap().create_grid(gridbook_core::NewGrid {
        name: "第一网格".into(),
        village: "幸福村".into(),
        ..Default::default()
    });
    let grid = grid.unwrap().id;
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11643);
    let mut acked: Vec<Ack> = Vec::new();
    let mut kills = 0;
    for round in 0..200 {
        let durability = if round % 2 == 0 { "full" } else { "normal" };
        let mut child = Command::new(&exe)
            .args(["--exact", "child_process_for_crash_test", "--nocapture", "--test-threads", "1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_GRID, grid.to_string())
            .env(CHILD_DURABILITY, durability)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Kill after a random number of acknowledgements, at a random moment after the last one —
        // sometimes mid-write, sometimes between writes.
        let after = rng.random_range(1..25);
        let pause = Duration::from_micros(rng.random_range(0..3_000));
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < after {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(ack) = parse(&line) {
                        acked.push(ack);
                        seen += 1;
                    }
                }
                _ => break,
            }
        }
        std::thread::sleep(pause);
        child.kill().unwrap();
        kills += 1;
        // Whatever the child acknowledged before it died counts too.
        for line in lines.map_while(Result::ok) {
            if let Some(ack) = parse(&line) {
                acked.push(ack);
            }
        }
        child.wait().unwrap();

        let reopened = Store::open(dir.path(), config(Durability::Full))
            .unwrap_or_else(|e| panic!("round {round}: the store reopens after a kill: {e}"));
        for ack in &acked {
            assert!(present(&reopened, ack), "round {round}: acknowledged {ack:?} is present");
        }
        if round % 20 == 19 || round == 199 {
            assert!(integrity_ok(dir.path()), "round {round}: integrity_check");
            let before = reopened.dump_query_tables().unwrap();
            reopened.rebuild_query_tables().unwrap();
            assert_eq!(reopened.dump_query_tables().unwrap(), before, "round {round}: query tables equal a rebuild");
        }
    }
    assert_eq!(kills, 200);
    assert!(acked.len() >= 200, "writes were acknowledged: {}", acked.len());
}
