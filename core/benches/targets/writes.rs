//! The write targets: a sighting and a visit recorded into the year-long fixture, at both
//! durabilities, beside a bare one-row SQLite commit at the same setting (the overhead above it is
//! what the store adds), and a breakdown of one write into its automerge and SQLite parts, so that a
//! miss points at its cause.
//!
//! Each write is timed twice: back to back (the next call as soon as one returns — the worst case,
//! where the store's background work can never catch up) and paced, one call every [`PACE`]. A grid
//! member taps at most about once a second, so the paced schedule is still far faster than a person;
//! what it adds over the burst is the gap in which the background checkpoint finishes. It is shorter
//! than the store's idle threshold, so neither run waits for a fold at idle.

use std::path::Path;
use std::time::{Duration, Instant};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ObjType, ROOT, ReadDoc};
use gridbook_core::{Durability, Page, Store};
use rusqlite::OptionalExtension;

use crate::fixture::{self, Fixture, Stats};

/// Timed calls per write measurement: enough for a p99 that is not one outlier, and enough to cross
/// several of the writer's backstop checkpoints in a burst.
const WRITES: usize = 2000;
/// The paced schedule: far faster than a person taps, yet with a gap after every write.
const PACE: Duration = Duration::from_millis(10);

pub fn run(f: &Fixture, out: &mut Vec<String>) {
    let grid = f.summary.grids[0];
    let today = fixture::today();
    for durability in [Durability::Normal, Durability::Full] {
        for (pace, schedule) in [(None, "back to back"), (Some(PACE), "paced 10 ms apart")] {
            // A fresh copy each time, so the paced run starts from the same store as the burst.
            let (_keep, dir) = f.copy();
            let store = Store::open(&dir, fixture::config(durability)).expect("copy opens");
            let routine = store.due_checks(None, today).expect("due")[0].routine_id;
            let home = store.households(grid, false, Page::first(1)).expect("homes")[0].id;
            let (s, slow) = classified(&dir, &fixture::journal(grid_of(&store, routine), today), pace, || {
                store.record_sighting(routine, Some(today), None, "").expect("sighting");
            });
            out.push(row(&format!("record a sighting, {durability:?}, {schedule}"), target(durability), &s));
            out.push(slow);
            let (s, slow) = classified(&dir, &fixture::journal(grid, today), pace, || {
                store.record_visit(home, fixture::home_visit()).expect("visit");
            });
            out.push(row(&format!("record a visit, {durability:?}, {schedule}"), target(durability), &s));
            out.push(slow);
        }
        let (_keep, dir) = f.copy();
        for (pace, schedule) in [(None, "back to back"), (Some(PACE), "paced 10 ms apart")] {
            let s = bare_insert(&dir, durability, pace, schedule);
            let what = format!("bare one-row SQLite insert + commit, {durability:?}, {schedule} (same run)");
            out.push(row(&what, "(baseline)", &s));
        }
    }
    breakdown(f, out);
}

fn grid_of(store: &Store, routine: gridbook_core::RoutineId) -> gridbook_core::GridId {
    store.routine(routine).expect("routine").grid_id
}

/// Times `WRITES` calls of `write` into document `doc` (back to back, or one every `pace`), and says
/// how many took over a millisecond and what they coincided with: a write that folded the document's
/// changes into a new snapshot itself (its pending count, read between calls, fell to zero), or a
/// WAL checkpoint (the WAL header's checkpoint sequence, which moves when the WAL restarts after one,
/// moved next to it).
fn classified(dir: &Path, doc: &str, pace: Option<Duration>, mut write: impl FnMut()) -> (Stats, String) {
    let reader = rusqlite::Connection::open(dir.join("gridbook.db")).expect("reader");
    let pending =
        || -> i64 { reader.query_row("SELECT pending FROM docs WHERE id = ?1", [doc], |r| r.get(0)).unwrap_or(-1) };
    let wal = dir.join("gridbook.db-wal");
    let checkpoint_seq = || -> u32 {
        // The header only: reading the whole WAL after every write would evict the caches the next
        // write runs on.
        let mut header = [0u8; 16];
        let read = std::fs::File::open(&wal).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
        read.map_or(0, |()| u32::from_be_bytes([header[12], header[13], header[14], header[15]]))
    };
    let (mut times, mut compacted, mut seqs) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..WRITES {
        if let Some(pace) = pace {
            // On a fixed schedule, so a slow write does not push the next one later.
            std::thread::sleep((started + pace * i as u32).saturating_duration_since(Instant::now()));
        }
        let t = Instant::now();
        write();
        let us = t.elapsed().as_secs_f64() * 1e6;
        times.push(us);
        compacted.push(us > 1000.0 && pending() == 0);
        seqs.push(checkpoint_seq());
    }
    let slow: Vec<usize> = (0..WRITES).filter(|&i| times[i] > 1000.0).collect();
    let compacting = slow.iter().filter(|&&i| compacted[i]).count();
    let moved = |i: usize| i + 1 < WRITES && seqs[i + 1] != seqs[i] || i > 0 && seqs[i] != seqs[i - 1];
    let checkpointing = slow.iter().filter(|&&i| !compacted[i] && moved(i)).count();
    let line = format!(
        "| … writes over 1 ms | (diagnosis) | {} of {WRITES}: {compacting} compacted the document, {checkpointing} \
         beside a WAL checkpoint, {} neither |",
        slow.len(),
        slow.len() - compacting - checkpointing
    );
    (Stats::of(times), line)
}

fn target(durability: Durability) -> &'static str {
    match durability {
        Durability::Normal => "median ≤ 100 µs, p99 ≤ 300 µs",
        Durability::Full => "(report)",
    }
}

fn row(what: &str, target: &str, s: &Stats) -> String {
    format!("| {what} | {target} | median {:.0} µs, p99 {:.0} µs, max {:.0} µs |", s.median, s.p99, s.max)
}

fn bare_insert(dir: &Path, durability: Durability, pace: Option<Duration>, schedule: &str) -> Stats {
    let file = dir.join(format!("bare-{durability:?}-{schedule}.db"));
    let mut conn = rusqlite::Connection::open(file).expect("bare db");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    let sync = if durability == Durability::Full { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", sync).expect("sync");
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)", []).expect("table");
    let started = Instant::now();
    let mut times = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        if let Some(pace) = pace {
            std::thread::sleep((started + pace * i as u32).saturating_duration_since(Instant::now()));
        }
        let t = Instant::now();
        let tx = conn.transaction().expect("tx");
        tx.execute("INSERT INTO t (v) VALUES (?1)", [vec![7u8; 90]]).expect("insert");
        tx.commit().expect("commit");
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Stats::of(times)
}

/// One sighting's write, step by step, on this month's journal of the first grid as the fixture
/// holds it: the automerge transaction and commit, reading the change back (what the store does to
/// get the bytes it stores), the periodic full save (compaction), a cache-miss load, and the SQLite
/// rows of one write (change, document heads, query row) in one NORMAL transaction.
fn breakdown(f: &Fixture, out: &mut Vec<String>) {
    let (_keep, dir) = f.copy();
    let mut conn = rusqlite::Connection::open(dir.join("gridbook.db")).expect("db");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("sync");
    let name = fixture::journal(f.summary.grids[0], fixture::today());
    let started = Instant::now();
    let mut doc = load(&conn, &name).with_actor(ActorId::random());
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let ops = doc.stats().num_ops;

    let message = r#"{"by":"王芳","device":"bench-phone","action":"record sighting"}"#;
    let (mut tx_us, mut commit_us, mut read_back_us) = (Vec::new(), Vec::new(), Vec::new());
    let mut change_bytes = 0;
    let mut last: Option<Change> = None;
    for _ in 0..300 {
        let t = Instant::now();
        let mut tx = doc.transaction();
        // As the store writes an entry: one JSON string at a fresh key.
        tx.put(ROOT, format!("check:{}", uuid::Uuid::now_v7()).as_str(), entry_json()).expect("put");
        tx_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        tx.commit_with(CommitOptions::default().with_message(message.to_string()).with_time(1_763_600_000));
        commit_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let change = doc.get_last_local_change().expect("a change");
        read_back_us.push(t.elapsed().as_secs_f64() * 1e6);
        change_bytes += change.raw_bytes().len();
        last = Some(change);
    }
    let fresh = record_tx(&mut Automerge::new(), true, 200).median;
    let as_map = record_tx(&mut doc.clone(), false, 200).median;
    let long = record_tx(&mut doc.clone(), true, WRITES);
    let mut save_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(doc.save());
        save_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let bytes = last.map(|c| c.raw_bytes().to_vec()).unwrap_or_default();
    let heads = vec![0u8; 32];
    let sql = fixture::stats(300, || {
        let tx = conn.transaction().expect("tx");
        tx.execute("UPDATE docs SET heads = ?2, pending = pending + 1 WHERE id = ?1", rusqlite::params![name, heads])
            .expect("heads");
        tx.query_row("SELECT pending FROM docs WHERE id = ?1", [&name], |r| r.get::<_, i64>(0)).expect("pending");
        tx.execute("INSERT INTO changes (doc_id, bytes, unsent) VALUES (?1, ?2, 1)", rusqlite::params![name, bytes])
            .expect("change");
        tx.execute(
            "INSERT INTO observations (routine_id, day, id, at, by, note, outcome) VALUES (?1, 20000, ?2, 1, 'x', '', NULL)",
            rusqlite::params![uuid::Uuid::now_v7(), uuid::Uuid::now_v7()],
        )
        .expect("row");
        tx.commit().expect("commit");
    });
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    out.push(format!(
        "| where one sighting's write goes (this month's journal: {ops} ops) | (diagnosis) | automerge transaction \
         {:.0} µs, commit {:.0} µs, reading the change back {:.0} µs ({} B a change); SQLite rows + commit \
         {:.0} µs (p99 {:.0}); full save at a fold (at idle, after 256 writes) {:.1} ms; cache-miss load {load_ms:.1} ms. \
         The same entry's transaction on an empty document {fresh:.0} µs; as a map of seven fields (the layout \
         before entries) on this month's journal {as_map:.0} µs. Automerge alone, {WRITES} such entries into this \
         month's journal: median {:.0} µs, p99 {:.0} µs, max {:.0} µs |",
        med(&mut tx_us),
        med(&mut commit_us),
        med(&mut read_back_us),
        change_bytes / 300,
        sql.median,
        sql.p99,
        med(&mut save_ms),
        long.median,
        long.p99,
        long.max,
    ));
}

/// An observation as the store writes it.
fn entry_json() -> String {
    format!(
        r#"{{"id":"{}","routine_id":"{}","day":"2026-11-20","at":1763600000000,"by":"王芳","note":"","outcome":null}}"#,
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7()
    )
}

/// Microseconds of writing one observation into `doc` and committing: as one JSON string (the
/// store's layout for entries), or as a map of seven fields (the layout before it).
fn record_tx(doc: &mut Automerge, one_scalar: bool, n: usize) -> Stats {
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let mut tx = doc.transaction();
        let key = format!("check:{}", uuid::Uuid::now_v7());
        if one_scalar {
            tx.put(ROOT, key.as_str(), entry_json()).expect("put");
        } else {
            let obj = tx.put_object(ROOT, key.as_str(), ObjType::Map).expect("record");
            for field in ["id", "routine_id", "day", "at", "by", "note", "outcome"] {
                tx.put(&obj, field, "2026-11-20").expect("put");
            }
        }
        tx.commit();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Stats::of(times)
}

/// A document as the store keeps it: the snapshot, then the changes since.
fn load(conn: &rusqlite::Connection, name: &str) -> Automerge {
    let snapshot: Option<Vec<u8>> = conn
        .query_row("SELECT bytes FROM snapshots WHERE id = ?1", [name], |r| r.get(0))
        .optional()
        .expect("this month's journal");
    let mut doc = snapshot.map_or_else(Automerge::new, |b| Automerge::load(&b).expect("snapshot"));
    let mut stmt =
        conn.prepare("SELECT bytes FROM changes WHERE doc_id = ?1 AND NOT folded ORDER BY seq").expect("changes");
    let changes: Vec<Change> = stmt
        .query_map([name], |r| r.get::<_, Vec<u8>>(0))
        .expect("rows")
        .map(|b| Change::from_bytes(b.expect("bytes")).expect("a change"))
        .collect();
    doc.apply_changes(changes).expect("apply");
    doc
}
