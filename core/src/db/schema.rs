//! The one owner of the schema: creates a fresh database or upgrades an old one step by step, inside
//! one `BEGIN IMMEDIATE` transaction, and refuses a schema newer than this build knows.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

pub(crate) const VERSION: i64 = 11;

const V1: &str = "
-- Documents: a compacted snapshot plus the changes since, and the current heads (so that heads can
-- be listed without loading any document).
CREATE TABLE docs (
    id TEXT PRIMARY KEY,
    snapshot BLOB,
    heads BLOB NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX changes_by_doc ON changes (doc_id, seq);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- Query tables, derived from the documents. Each keeps the record's JSON for reading back whole,
-- and the columns that lists and searches filter or sort on.
CREATE TABLE grids (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE households (
    id BLOB PRIMARY KEY,
    grid_id BLOB NOT NULL,
    address_key TEXT NOT NULL,
    active INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX households_by_address ON households (grid_id, address_key);
CREATE TABLE residents (
    id BLOB PRIMARY KEY,
    household_id BLOB NOT NULL,
    grid_id BLOB NOT NULL,
    name TEXT NOT NULL,
    id_number TEXT,
    phone TEXT,
    care_tags TEXT NOT NULL,
    present INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX residents_by_household ON residents (household_id);
CREATE INDEX residents_by_id_number ON residents (id_number) WHERE id_number IS NOT NULL;
CREATE INDEX residents_by_phone ON residents (phone) WHERE phone IS NOT NULL;
CREATE TABLE routines (
    id BLOB PRIMARY KEY,
    grid_id BLOB NOT NULL,
    resident_id BLOB NOT NULL,
    active INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX routines_by_grid ON routines (grid_id);
-- Observations and visits are the bulk of the data: plain columns, no JSON copy.
CREATE TABLE observations (
    routine_id BLOB NOT NULL,
    day INTEGER NOT NULL,
    id BLOB NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    note TEXT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (routine_id, day, id)
) WITHOUT ROWID;
CREATE TABLE visits (
    id BLOB PRIMARY KEY,
    household_id BLOB NOT NULL,
    grid_id BLOB NOT NULL,
    day INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    by TEXT NOT NULL,
    purposes TEXT NOT NULL,
    notes TEXT NOT NULL,
    satisfaction TEXT
);
CREATE INDEX visits_by_grid_day ON visits (grid_id, day, household_id);
CREATE INDEX visits_by_household ON visits (household_id, at);
CREATE TABLE events (
    id BLOB PRIMARY KEY,
    grid_id BLOB NOT NULL,
    state TEXT NOT NULL,
    open INTEGER NOT NULL,
    urgency TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    deadline_met_at INTEGER,
    record TEXT NOT NULL
);
CREATE INDEX events_open ON events (open, state, reported_at);
-- Local photo files, by the SHA-256 of their bytes.
CREATE TABLE photos (
    sha256 TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Sync: the changes the server has not acknowledged yet (made here, or received from another
/// device), and which local photos it already has.
const V2: &str = "
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    bytes BLOB NOT NULL
);
ALTER TABLE photos ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0;
";

/// Snapshots in a table of their own, and a covering index for coverage. Every write updates its
/// document's heads and pending count; in the same row as the snapshot, that update read and
/// compared the whole snapshot's overflow pages (large for a month's journal) to rewrite a few
/// bytes, a large share of a write's time.
const V3: &str = "
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
);
INSERT INTO snapshots (id, bytes) SELECT id, snapshot FROM docs WHERE snapshot IS NOT NULL;
ALTER TABLE docs DROP COLUMN snapshot;
-- A household's visits by time, with the day: coverage asks whether a household has a visit in a
-- range of days, and answers from the index alone instead of reading each visit's row.
DROP INDEX visits_by_household;
CREATE INDEX visits_by_household ON visits (household_id, at, day);
";

/// The query tables, cleared before a rebuild from the documents.
const V4: &str = "
-- One change log instead of two copies of each change: a row stays while the document's snapshot lacks
-- it or the server may (`unsent`); `folded` rows are in the snapshot and wait only to be sent. The
-- outbox's rows come over as folded and unsent, so a change that was in both tables is sent once and
-- loaded once; the copy goes at the next sync.
ALTER TABLE changes ADD COLUMN unsent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
INSERT INTO changes (doc_id, bytes, unsent, folded) SELECT doc_id, bytes, 1, 1 FROM outbox ORDER BY seq;
DROP TABLE outbox;
";

/// Documents the server refused: their changes are held back from the outbox until the user
/// discards the document or sends it again.
const V5: &str = "
CREATE TABLE sync_refusals (
    doc TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    first_refused_at INTEGER NOT NULL,
    last_refused_at INTEGER NOT NULL
) WITHOUT ROWID;
";

/// The store's key pair, its enrolment with the district's server, the proofs of the changes it
/// may pass on, and the devices the server vouched for as authors.
const V6: &str = "
CREATE TABLE identity (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);
CREATE TABLE enrolment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server TEXT NOT NULL,
    token TEXT NOT NULL,
    certificate BLOB NOT NULL,
    server_key BLOB NOT NULL
);
CREATE TABLE proofs (id INTEGER PRIMARY KEY, actor BLOB NOT NULL, signature BLOB NOT NULL, hashes BLOB NOT NULL);
CREATE TABLE proven (hash BLOB PRIMARY KEY, proof INTEGER NOT NULL REFERENCES proofs(id)) WITHOUT ROWID;
CREATE TABLE authors (
    actor BLOB PRIMARY KEY,
    device_id TEXT NOT NULL,
    device TEXT NOT NULL,
    holder TEXT NOT NULL,
    role TEXT NOT NULL,
    certificate BLOB
) WITHOUT ROWID;
";

/// Residents merged into others: each merged resident's record names the one kept (`keep`), and
/// `root` is who it finally stands for once chains are followed and cycles broken, derived from all
/// the rows together so that every store derives the same.
const V7: &str = "
CREATE TABLE resident_merges (other BLOB PRIMARY KEY, keep BLOB NOT NULL, root BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX resident_merges_by_root ON resident_merges (root);
";

/// The access log's entries, from every access-log document the store has (its own reveals and
/// those the server sent of its grids), with the actor of the change that wrote each: who revealed
/// is read from the change, not from what the entry says.
const V8: &str = "
CREATE TABLE access_log (
    id BLOB PRIMARY KEY,
    grid_id BLOB NOT NULL,
    at INTEGER NOT NULL,
    actor BLOB NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX access_log_by_at ON access_log (at);
";

/// Data keys of records (see `datakey`): the store's own and those received, with the document
/// each belongs to; and the documents whose records wait for a key this store lacks.
const V9: &str = "
CREATE TABLE data_keys (
    id BLOB PRIMARY KEY,
    doc TEXT NOT NULL,
    key BLOB NOT NULL,
    mine INTEGER NOT NULL,
    unsent INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX data_keys_by_doc ON data_keys (doc);
CREATE INDEX data_keys_unsent ON data_keys (unsent) WHERE unsent = 1;
CREATE TABLE key_waits (
    id BLOB NOT NULL,
    doc TEXT NOT NULL,
    key_doc TEXT NOT NULL,
    make INTEGER NOT NULL,
    PRIMARY KEY (id, doc)
) WITHOUT ROWID;
";

/// Erasure (see `erasure`): the erasures this store asked for that the server has not carried out
/// (or refused, `refused` its reason), and the records erased, for good: ids alone, never a name,
/// so that nothing of them is read, shown or waited for again.
const V10: &str = "
CREATE TABLE erase_requests (
    id BLOB PRIMARY KEY,
    doc TEXT NOT NULL,
    kind INTEGER NOT NULL,
    reason TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    refused TEXT
) WITHOUT ROWID;
CREATE TABLE erased (
    id BLOB PRIMARY KEY,
    doc TEXT NOT NULL,
    kind INTEGER NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX erased_by_doc ON erased (doc);
";

/// Authorship checked by the store itself (see `sync::authorship`): the key first named for each
/// author (by the server or a certificate a peer showed), pinned so that a later, different one is
/// refused; whether a change of the author has come with the author's own proof (from then on every
/// one must); and the author's own proof of each change that came with one, beside the first proof
/// it arrived with (`proven`, which may be the server's).
const V11: &str = "
ALTER TABLE authors ADD COLUMN public_key BLOB;
ALTER TABLE authors ADD COLUMN signs INTEGER NOT NULL DEFAULT 0;
CREATE TABLE signed (hash BLOB PRIMARY KEY, proof INTEGER NOT NULL REFERENCES proofs(id)) WITHOUT ROWID;
";

pub(crate) const QUERY_TABLES: [&str; 9] = [
    "grids",
    "households",
    "residents",
    "resident_merges",
    "routines",
    "observations",
    "visits",
    "events",
    "access_log",
];

/// Brings the database to [`VERSION`].
pub(crate) fn init(conn: &mut Connection) -> Result<()> {
    // Every open of a current database ends here: a read, where a write transaction (and the WAL
    // frame and checkpoint it brings) would be most of the open's time.
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found == VERSION {
        return Ok(());
    }
    // Read again under the write lock: another process may have migrated meanwhile.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew { found, supported: VERSION });
    }
    for version in found..VERSION {
        match version {
            0 => tx.execute_batch(V1)?,
            1 => tx.execute_batch(V2)?,
            2 => tx.execute_batch(V3)?,
            3 => tx.execute_batch(V4)?,
            4 => tx.execute_batch(V5)?,
            5 => tx.execute_batch(V6)?,
            6 => tx.execute_batch(V7)?,
            7 => tx.execute_batch(V8)?,
            8 => tx.execute_batch(V9)?,
            9 => tx.execute_batch(V10)?,
            10 => tx.execute_batch(V11)?,
            _ => unreachable!("every version below VERSION has a step"),
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_sql(conn: &Connection) -> Vec<String> {
        let mut stmt =
            conn.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").expect("query");
        stmt.query_map([], |r| r.get::<_, String>(0)).expect("rows").collect::<rusqlite::Result<_>>().expect("sql")
    }

    #[test]
    fn every_old_schema_migrates_to_the_fresh_one() {
        let mut fresh = Connection::open_in_memory().expect("db");
        init(&mut fresh).expect("fresh");
        let all = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10];
        for version in 1..=all.len() {
            let steps = &all[..version];
            let mut old = Connection::open_in_memory().expect("db");
            for step in steps {
                old.execute_batch(step).expect("old schema");
            }
            old.pragma_update(None, "user_version", version as i64).expect("version");
            init(&mut old).expect("migrate");
            assert_eq!(schema_sql(&old), schema_sql(&fresh), "from version {version}");
        }
    }

    #[test]
    fn snapshots_move_to_their_own_table_with_heads_and_counts_kept() {
        let mut old = Connection::open_in_memory().expect("db");
        old.execute_batch(V1).and_then(|()| old.execute_batch(V2)).expect("version 2");
        old.pragma_update(None, "user_version", 2).expect("version");
        old.execute_batch(
            "INSERT INTO docs (id, snapshot, heads, pending) VALUES ('g/a', x'0102', x'aa', 3), ('g/b', NULL, x'bb', 1);",
        )
        .expect("rows");
        init(&mut old).expect("migrate");
        let rows = |sql: &str| -> Vec<String> {
            let mut stmt = old.prepare(sql).expect("query");
            stmt.query_map([], |r| r.get(0)).expect("rows").collect::<rusqlite::Result<_>>().expect("rows")
        };
        assert_eq!(rows("SELECT id || ':' || hex(bytes) FROM snapshots ORDER BY id"), ["g/a:0102"]);
        assert_eq!(
            rows("SELECT id || ':' || hex(heads) || ':' || pending FROM docs ORDER BY id"),
            ["g/a:AA:3", "g/b:BB:1"]
        );
    }

    #[test]
    fn the_outbox_joins_the_change_log_as_folded_and_unsent_rows() {
        let mut old = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3] {
            old.execute_batch(step).expect("version 3");
        }
        old.pragma_update(None, "user_version", 3).expect("version");
        old.execute_batch(
            "INSERT INTO changes (doc_id, bytes) VALUES ('j/a', x'01'), ('j/a', x'02');
             INSERT INTO outbox (doc_id, bytes) VALUES ('j/a', x'02'), ('h/b', x'03');",
        )
        .expect("rows");
        init(&mut old).expect("migrate");
        let mut stmt = old
            .prepare("SELECT doc_id || ':' || hex(bytes) || ':' || unsent || folded FROM changes ORDER BY seq")
            .expect("query");
        let rows: Vec<String> =
            stmt.query_map([], |r| r.get(0)).expect("rows").collect::<rusqlite::Result<_>>().expect("rows");
        assert_eq!(rows, ["j/a:01:00", "j/a:02:00", "j/a:02:11", "h/b:03:11"]);
    }

    #[test]
    fn a_current_schema_is_checked_without_writing() {
        let mut conn = Connection::open_in_memory().expect("db");
        init(&mut conn).expect("fresh");
        conn.pragma_update(None, "query_only", true).expect("read only");
        init(&mut conn).expect("current schema, no write");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.pragma_update(None, "user_version", VERSION + 1).expect("version");
        assert!(matches!(init(&mut conn), Err(Error::SchemaTooNew { .. })));
    }
}
