//! Folding and persisting against a real store, and the setup the maintenance thread's tests share.

use std::collections::BTreeSet;

use tempfile::TempDir;

use super::*;
use crate::{Durability, HouseholdId, NewGrid, NewHousehold, NewVisit, Store, StoreConfig, VisitKind};

/// A store with `visits` visits to one household, and a second connection to fold from.
pub(crate) struct Setup {
    pub dir: TempDir,
    pub store: Store,
    pub side: Connection,
    pub home: HouseholdId,
    pub journal: String,
}

pub(crate) fn setup(visits: usize) -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = StoreConfig::new("王芳", "phone");
    config.durability = Durability::Normal;
    let store = Store::open(dir.path(), config).expect("store");
    let grid = store
        .create_grid(NewGrid { name: "第一网格".into(), village: "幸福村".into(), ..Default::default() })
        .expect("grid")
        .id;
    let new = NewHousehold { address: "一组1号".into(), head_name: "张三".into(), ..Default::default() };
    let home = store.add_household(grid, new).expect("household").id;
    for i in 0..visits {
        visit(&store, home, i);
    }
    let side = Connection::open(dir.path().join(crate::db::FILE_NAME)).expect("side");
    let journal =
        side.query_row("SELECT id FROM docs WHERE id LIKE 'j/%'", [], |r| r.get(0)).expect("the visits' journal");
    Setup { dir, store, side, home, journal }
}

pub(crate) fn visit(store: &Store, home: HouseholdId, i: usize) {
    let new = NewVisit { kind: VisitKind::Home, at: None, purposes: vec![], notes: format!("{i}"), satisfaction: None };
    store.record_visit(home, new).expect("visit");
}

/// A document's heads and every change in it: equal for equal documents.
pub(crate) fn content(conn: &Connection, key: &str) -> (Vec<ChangeHash>, BTreeSet<ChangeHash>) {
    let doc = load(conn, &key.parse().expect("name")).expect("load").expect("a document");
    (doc.get_heads(), doc.get_changes(&[]).iter().map(Change::hash).collect())
}

/// The document's change rows beside its snapshot and its pending count.
pub(crate) fn rows(conn: &Connection, key: &str) -> (i64, i64) {
    let count = conn
        .query_row("SELECT COUNT(*) FROM changes WHERE doc_id = ?1 AND NOT folded", [key], |r| r.get(0))
        .expect("count");
    let pending = conn.query_row("SELECT pending FROM docs WHERE id = ?1", [key], |r| r.get(0)).expect("pending");
    (count, pending)
}

#[test]
fn a_fold_keeps_the_document_and_takes_exactly_its_rows_out_of_its_log() {
    let mut s = setup(40);
    let before = content(&s.side, &s.journal);
    assert_eq!(rows(&s.side, &s.journal), (40, 40));
    assert_eq!(fold(&mut s.side, &s.journal, || true).expect("fold"), Fold::Folded(40));
    assert_eq!(rows(&s.side, &s.journal), (0, 0));
    assert_eq!(content(&s.side, &s.journal), before);
    assert_eq!(fold(&mut s.side, &s.journal, || true).expect("again"), Fold::Nothing);
    // The writer's document in memory is still the one on disk: it writes on.
    visit(&s.store, s.home, 40);
    let config = s.store.config().clone();
    drop(s.store);
    let store = Store::open(s.dir.path(), config).expect("reopen");
    assert_eq!(store.visits_of(s.home).expect("visits").len(), 41);
}

#[test]
fn a_write_during_a_fold_stays_beside_the_new_snapshot() {
    let mut s = setup(40);
    let folded = fold(&mut s.side, &s.journal, || {
        visit(&s.store, s.home, 40);
        true
    });
    assert_eq!(folded.expect("fold"), Fold::Folded(40));
    assert_eq!(rows(&s.side, &s.journal), (1, 1));
    let (heads, changes) = content(&s.side, &s.journal);
    assert_eq!(changes.len(), 41);
    assert_eq!(heads, s.store.heads().expect("heads").0[&s.journal]);
    let dump = s.store.dump_query_tables().expect("dump");
    s.store.rebuild_query_tables().expect("rebuild");
    assert_eq!(s.store.dump_query_tables().expect("dump"), dump);
    assert_eq!(s.store.visits_of(s.home).expect("visits").len(), 41);
}

#[test]
fn a_fold_by_the_writer_meanwhile_stands() {
    let mut s = setup(40);
    let before = content(&s.side, &s.journal);
    let folded = fold(&mut s.side, &s.journal, || {
        s.store.compact().expect("compact");
        visit(&s.store, s.home, 40);
        true
    });
    assert_eq!(folded.expect("fold"), Fold::Superseded);
    assert_eq!(rows(&s.side, &s.journal), (1, 1));
    let (_, changes) = content(&s.side, &s.journal);
    assert!(changes.is_superset(&before.1) && changes.len() == 41);
}

#[test]
fn a_fold_keeps_the_changes_the_server_lacks_until_a_sync_sends_them() {
    let mut s = setup(40);
    let waiting = s.store.sync_status().expect("status").pending_changes;
    assert!(waiting >= 40, "the visits wait to be sent: {waiting}");
    assert_eq!(fold(&mut s.side, &s.journal, || true).expect("fold"), Fold::Folded(40));
    assert_eq!(rows(&s.side, &s.journal), (0, 0));
    assert_eq!(s.store.sync_status().expect("status").pending_changes, waiting);
    // They go out whole and in order, and the document still loads from its snapshot alone.
    let prepared = s.store.prepare_sync(usize::MAX).expect("prepare");
    assert_eq!(prepared.changes_sent as u64, waiting);
    let sent: Vec<Vec<u8>> =
        prepared.request.docs.iter().filter(|d| d.doc == s.journal).flat_map(|d| d.changes.clone()).collect();
    let (_, in_document) = content(&s.side, &s.journal);
    assert_eq!(sent.len(), 40);
    assert!(sent.iter().all(|b| Change::from_bytes(b.clone()).is_ok_and(|c| in_document.contains(&c.hash()))));
    let reply = crate::sync::wire::SyncResponse { cursor: vec![1], ..Default::default() };
    s.store.finish_sync(&prepared, reply).expect("finish");
    assert_eq!(s.store.sync_status().expect("status").pending_changes, 0);
    let left: i64 =
        s.side.query_row("SELECT COUNT(*) FROM changes WHERE doc_id = ?1", [&s.journal], |r| r.get(0)).expect("count");
    assert_eq!(left, 0, "sent changes in the snapshot are gone");
    visit(&s.store, s.home, 40);
    assert_eq!(s.store.visits_of(s.home).expect("visits").len(), 41);
}

#[test]
fn compaction_by_the_writer_keeps_unsent_changes_too() {
    let s = setup(10);
    let waiting = s.store.sync_status().expect("status").pending_changes;
    s.store.compact().expect("compact");
    assert_eq!(rows(&s.side, &s.journal), (0, 0));
    let prepared = s.store.prepare_sync(usize::MAX).expect("prepare");
    assert_eq!(prepared.changes_sent as u64, waiting);
    let config = s.store.config().clone();
    drop(s.store);
    let store = Store::open(s.dir.path(), config).expect("reopen");
    assert_eq!(store.visits_of(s.home).expect("visits").len(), 10);
    assert_eq!(store.sync_status().expect("status").pending_changes, waiting);
}

#[test]
fn a_deferred_fold_writes_nothing() {
    let mut s = setup(10);
    assert_eq!(fold(&mut s.side, &s.journal, || false).expect("fold"), Fold::Deferred);
    assert_eq!(rows(&s.side, &s.journal), (10, 10));
}

#[test]
fn fold_pending_folds_at_once_what_the_idle_fold_would_and_keeps_the_content() {
    let s = setup(FOLD_AT_IDLE as usize + 20);
    let before = content(&s.side, &s.journal);
    let dump = s.store.dump_query_tables().expect("dump");
    // The idle fold may get there first; either way nothing is left for the next pass.
    s.store.fold_pending().expect("fold");
    assert!(rows(&s.side, &s.journal).1 < FOLD_AT_IDLE, "{:?}", rows(&s.side, &s.journal));
    assert_eq!(s.store.fold_pending().expect("fold again"), 0);
    assert_eq!(content(&s.side, &s.journal), before);
    assert_eq!(s.store.dump_query_tables().expect("dump"), dump);
    visit(&s.store, s.home, 0);
    assert_eq!(s.store.visits_of(s.home).expect("visits").len(), FOLD_AT_IDLE as usize + 21);
}
