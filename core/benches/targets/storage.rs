//! The storage targets: bytes per recorded check (documents + query rows, measured as the growth of
//! each table over extra checks, after compaction and as synced), what the changes waiting to be sent
//! add on top, where the fixture's bytes lie table by table, and the fixture beside the same rows in
//! plain SQLite.

use std::collections::BTreeMap;
use std::path::Path;

use gridbook_core::{Durability, Store};

use crate::fixture::{self, Fixture};

/// Extra checks recorded to measure the growth: about three months of the fixture's 30 routines.
const CHECKS: i64 = 3000;

pub fn run(f: &Fixture, out: &mut Vec<String>) {
    let (_keep, dir) = f.copy();
    // Both sides compacted, so the difference is what the checks added, not what compaction saved.
    Store::open(&dir, fixture::config(Durability::Normal)).expect("copy").compact().expect("compact");
    let (before, unsent_before) = (tables(&dir, true), unsent_bytes(&dir));
    {
        let store = Store::open(&dir, fixture::config(Durability::Normal)).expect("copy");
        let today = fixture::today();
        let routines: Vec<_> = store.due_checks(None, today).expect("due").into_iter().map(|d| d.routine_id).collect();
        for n in 0..CHECKS {
            // Days before the fixture's history, so the checks fill new months as a real year does.
            let day = today - chrono::Duration::days(400 + n / routines.len() as i64);
            store.record_sighting(routines[n as usize % routines.len()], Some(day), None, "").expect("sighting");
        }
        store.compact().expect("compact");
    }
    let unsent = (unsent_bytes(&dir) - unsent_before) as f64 / CHECKS as f64;
    let after = tables(&dir, true);
    let grown = |group: Group| {
        let sum = |t: &BTreeMap<Group, u64>| t.get(&group).copied().unwrap_or(0);
        sum(&after).saturating_sub(sum(&before)) as f64 / CHECKS as f64
    };
    let (documents, rows) = (grown(Group::Documents), grown(Group::QueryRows));
    out.push(format!(
        "| bytes per recorded check (documents + query rows, compacted) | ≤ 120 B | {:.0} B (documents {documents:.0} B, \
         query rows with their index {rows:.0} B) |",
        documents + rows
    ));
    out.push(format!("| … plus each change's bytes until the next sync sends it | (report) | {unsent:.0} B |"));

    let whole = tables(f.dir.path(), false);
    let mb = |g: Group| whole.get(&g).copied().unwrap_or(0) as f64 / 1e6;
    out.push(format!(
        "| fixture by table group (as built, uncompacted, unsynced) | (report) | documents {:.1} MB (of which \
         changes waiting to be sent {:.1} MB), query tables + indexes {:.1} MB, other {:.1} MB |",
        mb(Group::Documents),
        unsent_bytes(f.dir.path()) as f64 / 1e6,
        mb(Group::QueryRows),
        mb(Group::Other)
    ));
    plain(f, out);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Documents,
    QueryRows,
    Other,
}

/// What a sync does to the change log: the changes already in their snapshots go, the rest count as
/// sent.
const SYNCED: &str = "DELETE FROM changes WHERE folded; UPDATE changes SET unsent = 0;";

/// The bytes of the changes waiting to be sent.
fn unsent_bytes(dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("gridbook.db")).expect("db");
    conn.query_row("SELECT COALESCE(SUM(length(bytes)), 0) FROM changes WHERE unsent", [], |r| r.get(0)).expect("sum")
}

/// Bytes of pages per table group, from SQLite's `dbstat` (the WAL checkpointed first, so that
/// every page is in the main file) — of a vacuumed copy as the next sync would leave it, if `synced`.
fn tables(dir: &Path, synced: bool) -> BTreeMap<Group, u64> {
    let tmp = tempfile::tempdir().expect("dir");
    let mut conn = rusqlite::Connection::open(dir.join("gridbook.db")).expect("db");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    if synced {
        let copy = tmp.path().join("synced.db");
        conn.execute("VACUUM INTO ?1", [copy.to_str().expect("utf-8 path")]).expect("vacuum into");
        conn = rusqlite::Connection::open(&copy).expect("copy");
        conn.execute_batch(SYNCED).and_then(|()| conn.execute_batch("VACUUM")).expect("synced");
    }
    let mut stmt = conn.prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").expect("dbstat");
    let mut groups = BTreeMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).expect("rows");
    for row in rows {
        let (name, bytes) = row.expect("row");
        let group = match name.as_str() {
            "docs"
            | "snapshots"
            | "changes"
            | "changes_by_doc"
            | "sqlite_autoindex_docs_1"
            | "sqlite_autoindex_snapshots_1" => Group::Documents,
            n if ["grids", "households", "residents", "routines", "observations", "visits", "events"].iter().any(
                |t| n == *t || n.starts_with(&format!("{t}_")) || n.starts_with(&format!("sqlite_autoindex_{t}")),
            ) =>
            {
                Group::QueryRows
            }
            _ => Group::Other,
        };
        *groups.entry(group).or_insert(0) += bytes as u64;
    }
    groups
}

/// The fixture's rows alone — the query tables with their indexes, which is what an app on plain
/// SQLite would keep (an upper bound: these tables also keep each ledger record's JSON) — beside the
/// whole store, both vacuumed.
fn plain(f: &Fixture, out: &mut Vec<String>) {
    let tmp = tempfile::tempdir().expect("dir");
    let conn = rusqlite::Connection::open(f.dir.path().join("gridbook.db")).expect("db");
    let whole = tmp.path().join("whole.db");
    let rows = tmp.path().join("rows.db");
    for target in [&whole, &rows] {
        conn.execute("VACUUM INTO ?1", [target.to_str().expect("utf-8 path")]).expect("vacuum into");
    }
    let plain_conn = rusqlite::Connection::open(&rows).expect("plain");
    plain_conn.execute_batch("DROP TABLE docs; DROP TABLE snapshots; DROP TABLE changes; VACUUM;").expect("drop docs");
    drop(plain_conn);
    let whole_synced = tmp.path().join("synced.db");
    conn.execute("VACUUM INTO ?1", [whole_synced.to_str().expect("utf-8 path")]).expect("vacuum into");
    let synced = rusqlite::Connection::open(&whole_synced).expect("synced");
    synced.execute_batch(SYNCED).and_then(|()| synced.execute_batch("VACUUM")).expect("synced");
    drop(synced);
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    out.push(format!(
        "| whole fixture on disk vs the same rows in plain SQLite (vacuumed) | (report) | {:.1} MB ({:.1} MB once synced) \
         vs {:.1} MB: {:.1}× ({:.1}× synced) |",
        size(&whole),
        size(&whole_synced),
        size(&rows),
        size(&whole) / size(&rows),
        size(&whole_synced) / size(&rows)
    ));
}
