//! A document the server refused, discarded: what the server acknowledged of it stays, and what it
//! refused goes, with everything made on top of it.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::Fixture;
use gridbook_core::HouseholdEdit;
use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{Refusal, SyncResponse};

/// One exchange with a server that takes everything but refuses `refused`.
fn exchange(f: &Fixture, refused: &[&str]) {
    let prepared = f.store.prepare_sync(1 << 20).unwrap();
    let refused =
        refused.iter().map(|doc| Refusal { doc: doc.to_string(), reason: RefusalReason::NotAllowed }).collect();
    f.store.finish_sync(&prepared, SyncResponse { refused, ..SyncResponse::default() }).unwrap();
}

#[test]
fn discarding_a_refused_edit_keeps_what_the_server_acknowledged() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "幸福村一组1号");
    let neighbour = f.household(grid.id, "幸福村一组2号");
    exchange(&f, &[]);
    let acknowledged = f.store.household(home.id).unwrap();
    let history = f.store.household_history(home.id).unwrap();

    // An edit, another on top of it, and one to the neighbour; the server refuses the first
    // household's document and takes the neighbour's.
    let doc = format!("h/{}/{}", grid.id, home.id);
    let moved = HouseholdEdit { address: Some("幸福村三组9号".into()), ..Default::default() };
    f.store.edit_household(home.id, moved).unwrap();
    f.store.edit_household(home.id, HouseholdEdit { notes: Some("搬走了".into()), ..Default::default() }).unwrap();
    let noted = HouseholdEdit { notes: Some("独居老人".into()), ..Default::default() };
    f.store.edit_household(neighbour.id, noted).unwrap();
    exchange(&f, &[&doc]);
    assert_eq!(f.store.sync_status().unwrap().refused.len(), 1);

    f.store.discard_refused(&doc).unwrap();
    assert_eq!(f.store.household(home.id).unwrap(), acknowledged, "the household as the server has it");
    assert_eq!(f.store.household_history(home.id).unwrap(), history);
    assert_eq!(f.store.household(neighbour.id).unwrap().notes, "独居老人", "the rest untouched");
    let status = f.store.sync_status().unwrap();
    assert!(status.refused.is_empty());
    assert_eq!(status.pending_changes, 0, "nothing of the refused edits waits to go up");
    let dump = f.store.dump_query_tables().unwrap();
    f.store.rebuild_query_tables().unwrap();
    assert_eq!(f.store.dump_query_tables().unwrap(), dump, "the query rows are those of the documents left");

    // The household goes on from there, on this device and after a restart.
    let f = f.reopen();
    assert_eq!(f.store.household(home.id).unwrap(), acknowledged);
    f.store.edit_household(home.id, HouseholdEdit { notes: Some("仍住原址".into()), ..Default::default() }).unwrap();
    let request = f.store.prepare_sync(1 << 20).unwrap().request;
    assert_eq!(request.docs.iter().filter(|d| d.doc == doc).map(|d| d.changes.len()).sum::<usize>(), 1);
    assert_eq!(f.store.household(home.id).unwrap().notes, "仍住原址");
}

#[test]
fn discarding_a_refused_document_the_server_never_had_removes_it() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    exchange(&f, &[]);
    let stray = f.household(grid.id, "幸福村一组5号");
    let doc = format!("h/{}/{}", grid.id, stray.id);
    exchange(&f, &[&doc]);
    f.store.discard_refused(&doc).unwrap();
    assert!(f.store.household(stray.id).is_err());
    assert_eq!(f.store.sync_status().unwrap().pending_changes, 0);
}
