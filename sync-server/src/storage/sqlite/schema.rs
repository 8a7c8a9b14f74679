//! The one owner of the server's schema: creates it fresh or upgrades it a step at a time in one
//! transaction, and refuses a database written by a newer server.

use rusqlite::{Connection, TransactionBehavior};

use crate::storage::{StorageError, StorageResult};

const VERSION: i64 = 12;

const V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    grids TEXT NOT NULL,
    village TEXT,
    department TEXT,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE actors (actor BLOB PRIMARY KEY, device TEXT NOT NULL REFERENCES devices(id)) WITHOUT ROWID;
-- AUTOINCREMENT: a sequence number is never reused, so a device's cursor never skips a change.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    grid TEXT NOT NULL,
    author TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX changes_by_grid ON changes (grid, seq);
CREATE INDEX changes_by_doc ON changes (doc, seq);
CREATE TABLE grid_villages (grid TEXT PRIMARY KEY, village TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX grid_villages_by_village ON grid_villages (village);
-- An event becomes visible to a department at granted_seq; the department then gets all of it.
CREATE TABLE grants (
    department TEXT NOT NULL,
    doc TEXT NOT NULL,
    granted_seq INTEGER NOT NULL,
    PRIMARY KEY (department, doc)
) WITHOUT ROWID;
CREATE INDEX grants_by_doc ON grants (doc);
CREATE TABLE photo_refs (sha TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (sha, doc)) WITHOUT ROWID;
";

/// v2: a department's page starts from the events granted to it since its cursor.
const V2: &str = "
CREATE INDEX grants_by_department ON grants (department, granted_seq);
";

/// v3: a change is stored once per document, by `(doc, hash)` instead of by hash alone. A hash is
/// random, so the index on it alone put each of a request's changes on a page of its own: most of
/// the pages a day's sync wrote into the WAL, under the one writer every request waits for. By
/// document, a request's changes share the pages of the few documents they belong to. SQLite
/// cannot drop a column's UNIQUE constraint, so the table is rebuilt; its sequence carries over,
/// since a device's cursor must never see a number again.
const V3: &str = "
CREATE TABLE changes_v3 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL,
    doc TEXT NOT NULL,
    grid TEXT NOT NULL,
    author TEXT NOT NULL,
    bytes BLOB NOT NULL
);
INSERT INTO changes_v3 (seq, hash, doc, grid, author, bytes)
    SELECT seq, hash, doc, grid, author, bytes FROM changes ORDER BY seq;
INSERT INTO sqlite_sequence (name, seq) SELECT 'changes_v3', seq FROM sqlite_sequence WHERE name = 'changes'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes_v3');
UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'changes'))
    WHERE name = 'changes_v3';
DROP TABLE changes;
ALTER TABLE changes_v3 RENAME TO changes;
CREATE UNIQUE INDEX changes_by_doc_hash ON changes (doc, hash);
CREATE INDEX changes_by_grid ON changes (grid, seq);
CREATE INDEX changes_by_doc ON changes (doc, seq);
";

/// v4: a photo is bound to the events it was uploaded for, and read only through them; a reference
/// from another event grants nothing. Which device uploaded a photo before v4 was never recorded,
/// so each photo referenced then is bound to the event (or events) of the document that came
/// earliest into the log among those referencing it: the event it was taken for came first, and a
/// later event naming the same photo had to learn its hash from somewhere. Binding a photo the
/// server never received whole grants nothing but what its upload would have.
const V4: &str = "
CREATE TABLE photo_bindings (sha TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (sha, doc)) WITHOUT ROWID;
INSERT OR IGNORE INTO photo_bindings (sha, doc)
    SELECT sha, doc FROM (
        SELECT r.sha, r.doc, MIN(c.seq) AS first, MIN(MIN(c.seq)) OVER (PARTITION BY r.sha) AS earliest
        FROM photo_refs r JOIN changes c ON c.doc = r.doc
        GROUP BY r.sha, r.doc
    ) WHERE first = earliest;
";

/// v5: the district's grid registry, the server's own record of which village each grid belongs to.
/// Before it, a grid's village was read from its document on every commit, so any device that could
/// write the document could move the grid (and its ledger) to another village. The villages known
/// then carry over as they stood; names are read from the grid documents after this step.
const V5: &str = "
CREATE TABLE grids (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    village TEXT NOT NULL,
    township TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX grids_by_village ON grids (village);
INSERT INTO grids (id, name, village, township, registered_by, registered_at)
    SELECT grid, '', village, '', 'before-registry', 0 FROM grid_villages;
DROP TABLE grid_villages;
";

/// Names the grids v5 carried over, from their documents. A document that does not read leaves its
/// grid unnamed: the registry is still right about its village, and the next change names it.
fn name_carried_grids(tx: &Connection) -> StorageResult<()> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM grids WHERE registered_by = 'before-registry'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let changes: Vec<automerge::Change> = tx
            .prepare("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY seq")?
            .query_map([format!("g/{id}")], |r| r.get::<_, Vec<u8>>(0))?
            .filter_map(|bytes| bytes.ok().and_then(|b| automerge::Change::from_bytes(b).ok()))
            .collect();
        if let Ok(Some(grid)) = gridbook_core::sync::grid_record(changes) {
            tx.execute("UPDATE grids SET name = ?2, township = ?3 WHERE id = ?1", (&id, &grid.name, &grid.township))?;
        }
    }
    Ok(())
}

/// v6: each change's actor and sequence number, so that a change reusing its actor's number in a
/// document (which no store could load beside the first) is refused. Filled for the changes stored
/// before it from their bytes, after this step.
const V6: &str = "
ALTER TABLE changes ADD COLUMN actor BLOB;
ALTER TABLE changes ADD COLUMN actor_seq INTEGER;
CREATE INDEX changes_by_doc_actor ON changes (doc, actor, actor_seq);
";

/// Fills in the actor and sequence number of every change stored before v6. A change that does not
/// parse keeps neither: it cannot have been stored by a server that parses every change first.
fn fill_actor_seqs(tx: &Connection) -> StorageResult<()> {
    let mut select = tx.prepare("SELECT seq, bytes FROM changes WHERE actor IS NULL")?;
    let mut update = tx.prepare("UPDATE changes SET actor = ?2, actor_seq = ?3 WHERE seq = ?1")?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let (seq, bytes): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        if let Ok(change) = automerge::Change::from_bytes(bytes) {
            update.execute(rusqlite::params![seq, change.actor_id().to_bytes(), change.seq() as i64])?;
        }
    }
    Ok(())
}

/// v7: enrolment. A device has a holder, the person it was given to, and may have no token yet: one
/// added with a one-time code gets its token when it enrols. SQLite cannot drop a column's NOT
/// NULL, so `devices` is rebuilt (with foreign keys off, see [`migrate`]). Each actor may have the
/// public key its store enrolled (none for one that has only synced by token); codes are kept
/// hashed, with the device they enrol. The server's own signing key is made in this step too.
const V7: &str = "
CREATE TABLE devices_v7 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    grids TEXT NOT NULL,
    village TEXT,
    department TEXT,
    holder TEXT NOT NULL DEFAULT '',
    token_hash BLOB UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO devices_v7 (id, name, role, grids, village, department, token_hash, created_at, revoked_at)
    SELECT id, name, role, grids, village, department, token_hash, created_at, revoked_at FROM devices;
DROP TABLE devices;
ALTER TABLE devices_v7 RENAME TO devices;
ALTER TABLE actors ADD COLUMN public_key BLOB;
CREATE TABLE enrolment_codes (
    code_hash BLOB PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(id),
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by_key BLOB
) WITHOUT ROWID;
CREATE INDEX enrolment_codes_by_device ON enrolment_codes (device);
";

/// v8: why a device was revoked (`lost`, `retired`), which decides whether it is told to wipe and
/// whether its uploads are still taken. A device revoked before keeps none: refused, told nothing.
const V8: &str = "
ALTER TABLE devices ADD COLUMN revoked_as TEXT;
";

/// v9: the change log keeps two indexes instead of four, since every change inserted pays for each
/// under the one writer that every request waits for. A change is known within its document by its
/// author and sequence number, which decide everything `(doc, hash)` and `(doc, seq)` did: the
/// same change sent again is skipped by them, a document's changes are few enough to sort (only
/// events and grids are read whole), and a change that reuses its author's number, which no store
/// could load beside the first, can no longer be stored at all. A second change at one author's
/// number stored before the server refused such changes is dropped here: its document did not load
/// with it on any store, and the first stays. The grid index carries each change's author, so that
/// a device's page passes over the changes it sent itself (all of a grid member's day, just
/// stored) without reading their rows.
const V9: &str = "
DELETE FROM changes WHERE actor IS NOT NULL AND EXISTS (
    SELECT 1 FROM changes first
    WHERE first.doc = changes.doc AND first.actor = changes.actor AND first.actor_seq = changes.actor_seq
          AND first.seq < changes.seq
);
DROP INDEX changes_by_doc_hash;
DROP INDEX changes_by_doc;
DROP INDEX changes_by_doc_actor;
CREATE UNIQUE INDEX changes_by_doc_actor ON changes (doc, actor, actor_seq);
DROP INDEX changes_by_grid;
CREATE INDEX changes_by_grid ON changes (grid, seq, author);
";

/// v10: records' data keys, each wrapped under the server's master key (kept in a file of its own,
/// never in this database), with the document its record lives in, which decides who receives it.
const V10: &str = "
CREATE TABLE data_keys (id BLOB PRIMARY KEY, doc TEXT NOT NULL, wrapped BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX data_keys_by_doc ON data_keys (doc);
";

/// v11: erasures. A record erased is remembered for good by its id, document and kind only, so that
/// its key is never kept or made again and its fields are refused; each erasure's notice, which
/// every store in scope carries out, is kept with who asked and why until it is pruned. Notices are
/// numbered by a sequence that is never handed out again, since a store names the last it carried
/// out.
const V11: &str = "
CREATE TABLE erased_records (id BLOB PRIMARY KEY, doc TEXT NOT NULL, kind INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX erased_records_by_doc ON erased_records (doc);
CREATE TABLE erasure_notices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL,
    doc TEXT NOT NULL,
    grid TEXT NOT NULL,
    kind INTEGER NOT NULL,
    erased_at INTEGER NOT NULL,
    by_device TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX erasure_notices_by_time ON erasure_notices (erased_at);
";

/// v12: authors' proofs. Each batch its author signed is kept once (the hashes it covers as one
/// blob), and each change stored under it names it, so that a reply carries every change's proof
/// and a store checks the author's signature itself. A change stored before has none.
const V12: &str = "
CREATE TABLE proofs (id INTEGER PRIMARY KEY, actor BLOB NOT NULL, signature BLOB NOT NULL, hashes BLOB NOT NULL);
ALTER TABLE changes ADD COLUMN proof INTEGER REFERENCES proofs(id);
";

/// The meta key of the server's Ed25519 signing key, in hex.
pub(super) const SERVER_KEY: &str = "server_key";

/// Makes the server's signing key, which signs its devices' certificates, unless it has one.
fn make_server_key(tx: &Connection) -> StorageResult<()> {
    let secret: [u8; 32] = rand::random();
    tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)", [SERVER_KEY, &hex::encode(secret)])?;
    Ok(())
}

/// Brings the database to the current schema.
pub(super) fn migrate(conn: &mut Connection) -> StorageResult<()> {
    // A table that others refer to is rebuilt with foreign keys off, as SQLite prescribes: dropping
    // the old one would otherwise break the references the new one takes over. The pragma is a
    // no-op inside a transaction, so it is set around it; `foreign_key_check` stands in for it.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = migrate_in_transaction(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated
}

fn migrate_in_transaction(conn: &mut Connection) -> StorageResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(StorageError::NewerSchema { found, known: VERSION });
    }
    // One step at a time, so a database of any older version takes the same path as a fresh one.
    for version in found + 1..=VERSION {
        match version {
            1 => tx.execute_batch(V1)?,
            2 => tx.execute_batch(V2)?,
            3 => tx.execute_batch(V3)?,
            4 => tx.execute_batch(V4)?,
            5 => {
                tx.execute_batch(V5)?;
                name_carried_grids(&tx)?;
            }
            6 => {
                tx.execute_batch(V6)?;
                fill_actor_seqs(&tx)?;
            }
            7 => {
                tx.execute_batch(V7)?;
                make_server_key(&tx)?;
            }
            8 => tx.execute_batch(V8)?,
            9 => tx.execute_batch(V9)?,
            10 => tx.execute_batch(V10)?,
            11 => tx.execute_batch(V11)?,
            12 => tx.execute_batch(V12)?,
            _ => return Err(StorageError::Backend(format!("no migration to schema {version}").into())),
        }
    }
    if found < VERSION && tx.prepare("PRAGMA foreign_key_check")?.exists([])? {
        return Err(StorageError::Backend("the schema upgrade left a reference to a missing row".into()));
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_log_keeps_its_rows_and_its_sequence_across_v3() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.execute_batch(V1).and_then(|()| conn.execute_batch(V2)).expect("version 2");
        conn.pragma_update(None, "user_version", 2).expect("version");
        let insert = "INSERT INTO changes (hash, doc, grid, author, bytes) VALUES (?1, ?2, 'g', 'd', x'00')";
        for (hash, doc) in [(1u8, "j/g/2026-12"), (2, "h/g/1"), (3, "j/g/2026-12")] {
            conn.execute(insert, rusqlite::params![vec![hash; 32], doc]).expect("row");
        }
        // A deleted last row leaves the sequence ahead of the rows.
        conn.execute("DELETE FROM changes WHERE seq = 3", []).expect("delete");
        migrate(&mut conn).expect("migrate");
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT seq, doc FROM changes ORDER BY seq")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(rows, [(1, "j/g/2026-12".to_string()), (2, "h/g/1".to_string())]);
        // A number once handed out is never handed out again.
        conn.execute(insert, rusqlite::params![vec![4u8; 32], "h/g/1"]).expect("row");
        assert_eq!(conn.last_insert_rowid(), 4);
    }

    #[test]
    fn from_v9_a_change_is_stored_once_per_document_by_its_author_and_number() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4, V5, V6, V7, V8] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 8).expect("version");
        let insert = "INSERT OR IGNORE INTO changes (hash, doc, grid, author, actor, actor_seq, bytes)
                      VALUES (?1, ?2, 'g', 'd', x'07', ?3, x'00')";
        // The second change at the author's number 2 came before the server refused such changes.
        for (hash, doc, seq) in [(1u8, "h/g/1", 1), (2, "h/g/1", 2), (3, "h/g/1", 2), (4, "e/g/1", 2)] {
            assert_eq!(conn.execute(insert, rusqlite::params![vec![hash; 32], doc, seq]).expect("row"), 1);
        }
        migrate(&mut conn).expect("migrate");
        let hashes = |c: &Connection| -> Vec<u8> {
            c.prepare("SELECT hash FROM changes ORDER BY seq")
                .expect("query")
                .query_map([], |r| r.get::<_, Vec<u8>>(0))
                .expect("rows")
                .map(|h| h.expect("hash")[0])
                .collect()
        };
        assert_eq!(hashes(&conn), [1, 2, 4], "the first change at a number stays, the second goes");
        // The same change again is skipped; another at a stored number too; in another document,
        // or at a new number, a change is stored.
        assert_eq!(conn.execute(insert, rusqlite::params![vec![2u8; 32], "h/g/1", 2]).expect("again"), 0);
        assert_eq!(conn.execute(insert, rusqlite::params![vec![5u8; 32], "h/g/1", 2]).expect("reused"), 0);
        assert_eq!(conn.execute(insert, rusqlite::params![vec![2u8; 32], "e/g/2", 2]).expect("other doc"), 1);
        assert_eq!(conn.execute(insert, rusqlite::params![vec![6u8; 32], "h/g/1", 3]).expect("next"), 1);
        let indexes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'changes' AND sql IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(indexes, 2, "the log by grid, and by document and author");
    }

    #[test]
    fn photos_referenced_before_v4_are_bound_to_the_event_that_came_first() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 3).expect("version");
        let change = "INSERT INTO changes (hash, doc, grid, author, bytes) VALUES (?1, ?2, 'g', 'd', x'00')";
        // The event of grid 1 came first; grid 2's event named the same photo later.
        for (hash, doc) in [(1u8, "e/g1/a"), (2, "e/g2/b"), (3, "e/g1/a"), (4, "e/g2/c")] {
            conn.execute(change, rusqlite::params![vec![hash; 32], doc]).expect("change");
        }
        let reference = "INSERT INTO photo_refs (sha, doc) VALUES (?1, ?2)";
        for (sha, doc) in [("p1", "e/g2/b"), ("p1", "e/g1/a"), ("p2", "e/g2/c"), ("p3", "e/none/x")] {
            conn.execute(reference, [sha, doc]).expect("reference");
        }
        migrate(&mut conn).expect("migrate");
        let bound: Vec<(String, String)> = conn
            .prepare("SELECT sha, doc FROM photo_bindings ORDER BY sha, doc")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let expected = [("p1", "e/g1/a"), ("p2", "e/g2/c")].map(|(s, d)| (s.to_string(), d.to_string()));
        assert_eq!(bound, expected, "an event with no change in the log binds nothing");
    }

    #[test]
    fn grid_villages_known_before_v5_are_registered_as_they_stood_and_named_from_their_documents() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 4).expect("version");
        let new =
            gridbook_core::NewGrid {
                name: "第一网格".into(), village: "幸福村".into(), township: "城关街道".into()
            };
        let (grid, change) =
            gridbook_core::sync::new_grid_document(&new, "刘敏", "village-pc", chrono::Utc::now()).expect("grid");
        let id = grid.id.to_string();
        conn.execute(
            "INSERT INTO changes (hash, doc, grid, author, bytes) VALUES (?1, ?2, ?3, 'd', ?4)",
            rusqlite::params![&change.hash().0[..], format!("g/{id}"), id, change.raw_bytes()],
        )
        .expect("the grid's document");
        // The village the last commit before v5 left, and a grid whose document never arrived.
        for (grid, village) in [(id.as_str(), "幸福村"), ("g-without-document", "光明村")] {
            conn.execute("INSERT INTO grid_villages (grid, village) VALUES (?1, ?2)", [grid, village])
                .expect("village");
        }
        migrate(&mut conn).expect("migrate");
        let grids: Vec<(String, String, String, String)> = conn
            .prepare("SELECT id, name, village, registered_by FROM grids ORDER BY village")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let carried = |id: &str, name: &str, village: &str| {
            (id.to_string(), name.to_string(), village.to_string(), "before-registry".to_string())
        };
        assert_eq!(grids, [carried("g-without-document", "", "光明村"), carried(&id, "第一网格", "幸福村")]);
        let old: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'grid_villages'", [], |r| r.get(0))
            .expect("schema");
        assert_eq!(old, 0, "the registry replaces the table the documents wrote");
    }

    #[test]
    fn changes_stored_before_v6_get_their_actor_and_sequence_number() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4, V5] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 5).expect("version");
        let new = gridbook_core::NewGrid {
            name: "第一网格".into(), village: "幸福村".into(), township: String::new()
        };
        let (grid, change) =
            gridbook_core::sync::new_grid_document(&new, "刘敏", "village-pc", chrono::Utc::now()).expect("grid");
        conn.execute(
            "INSERT INTO changes (hash, doc, grid, author, bytes) VALUES (?1, ?2, ?3, 'd', ?4)",
            rusqlite::params![&change.hash().0[..], format!("g/{}", grid.id), grid.id.to_string(), change.raw_bytes()],
        )
        .expect("a change");
        migrate(&mut conn).expect("migrate");
        let (actor, seq): (Vec<u8>, i64) =
            conn.query_row("SELECT actor, actor_seq FROM changes", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("row");
        assert_eq!((actor, seq), (change.actor_id().to_bytes().to_vec(), 1));
    }

    #[test]
    fn devices_and_actors_carry_over_to_v7_and_the_server_gets_a_key_of_its_own() {
        let mut conn = Connection::open_in_memory().expect("db");
        // As every connection of the server has it: the rebuild must not trip over the references.
        conn.pragma_update(None, "foreign_keys", "ON").expect("foreign keys");
        for step in [V1, V2, V3, V4, V5, V6] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 6).expect("version");
        conn.execute(
            "INSERT INTO devices (id, name, role, grids, token_hash, created_at, revoked_at)
             VALUES ('d1', 'phone 1', 'grid-member', '[\"g1\"]', x'01', 5, 9)",
            [],
        )
        .expect("a device");
        conn.execute("INSERT INTO actors (actor, device) VALUES (x'07', 'd1')", []).expect("its actor");
        migrate(&mut conn).expect("migrate");

        let device: (String, String, Option<Vec<u8>>, i64, Option<i64>) = conn
            .query_row("SELECT name, holder, token_hash, created_at, revoked_at FROM devices", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .expect("the device");
        assert_eq!(device, ("phone 1".into(), String::new(), Some(vec![1]), 5, Some(9)));
        let actor: (String, Option<Vec<u8>>) =
            conn.query_row("SELECT device, public_key FROM actors", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("actor");
        assert_eq!(actor, ("d1".into(), None), "an actor that synced by token has no key");
        // Devices added with a code have no token until they enrol, several at once.
        for id in ["d2", "d3"] {
            conn.execute(
                "INSERT INTO devices (id, name, role, grids, created_at) VALUES (?1, ?1, 'centre', '[]', 0)",
                [id],
            )
            .expect("a device without a token");
        }
        let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).expect("pragma");
        assert!(foreign_keys, "foreign keys are on again after the upgrade");
        let orphan = "INSERT INTO enrolment_codes (code_hash, device, expires_at) VALUES (x'01', 'nobody', 0)";
        assert!(conn.execute(orphan, []).is_err(), "a code belongs to a registered device");
        conn.execute("INSERT INTO enrolment_codes (code_hash, device, expires_at) VALUES (x'01', 'd2', 0)", [])
            .expect("a code");

        let key = |c: &Connection| -> String {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [SERVER_KEY], |r| r.get(0)).expect("the key")
        };
        let made = key(&conn);
        assert_eq!(hex::decode(&made).expect("hex").len(), 32);
        migrate(&mut conn).expect("open again");
        assert_eq!(key(&conn), made, "the server keeps its key");
    }

    #[test]
    fn a_device_revoked_before_v8_stays_revoked_and_is_told_no_reason() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4, V5, V6, V7] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 7).expect("version");
        conn.execute(
            "INSERT INTO devices (id, name, role, grids, created_at, revoked_at) VALUES ('d1', 'p', 'centre', '[]', 0, 9)",
            [],
        )
        .expect("a revoked device");
        migrate(&mut conn).expect("migrate");
        let device = conn
            .query_row(
                &format!("SELECT {} FROM devices", super::super::devices::COLUMNS),
                [],
                super::super::devices::device_row,
            )
            .expect("the device");
        assert_eq!((device.revoked_at, device.revoked_as), (Some(9), None));
    }

    #[test]
    fn data_keys_carry_over_to_v11_and_nothing_is_erased_yet() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 10).expect("version");
        conn.execute("INSERT INTO data_keys (id, doc, wrapped) VALUES (x'01', 'h/g/1', x'02')", []).expect("a key");
        migrate(&mut conn).expect("migrate");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
        assert_eq!(count("SELECT COUNT(*) FROM data_keys"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM erased_records"), 0);
        assert_eq!(count("SELECT COUNT(*) FROM erasure_notices"), 0);
        assert_eq!(count("PRAGMA user_version"), VERSION);
    }

    #[test]
    fn changes_carry_over_to_v12_without_a_proof() {
        let mut conn = Connection::open_in_memory().expect("db");
        for step in [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11] {
            conn.execute_batch(step).expect("older schema");
        }
        conn.pragma_update(None, "user_version", 11).expect("version");
        conn.execute(
            "INSERT INTO changes (hash, doc, grid, author, actor, actor_seq, bytes)
             VALUES (x'01', 'h/g/1', 'g', 'd', x'aa', 1, x'02')",
            [],
        )
        .expect("a change");
        migrate(&mut conn).expect("migrate");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
        assert_eq!(count("SELECT COUNT(*) FROM changes WHERE proof IS NULL"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM proofs"), 0);
        assert_eq!(count("PRAGMA user_version"), VERSION);
    }
}
