//! Masked by default, revealed on purpose: every list, search and record the store hands out shows
//! ID numbers and phones masked; a reveal names its reason, returns the full values and writes an
//! entry into the grid's access log, which travels with the store's other changes and only grows.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ROOT, ReadDoc};
use common::{Fixture, id_number, resident};
use gridbook_core::sync::{AccessLogRefusal, access_log_entries};
use gridbook_core::{
    AccessAction, DocId, Error, HouseholdEdit, NewResident, Page, ResidentEdit, mask_id_number, mask_phone,
};

const PHONE: &str = "13812341111";

/// A grid with one household (phone 13900002222) and its head (a full ID number, phone [`PHONE`]).
fn ledger(f: &Fixture) -> (gridbook_core::Grid, gridbook_core::Household, gridbook_core::Resident) {
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    f.store
        .edit_household(home.id, HouseholdEdit { phone: Some(Some("13900002222".into())), ..Default::default() })
        .unwrap();
    let elder = f
        .store
        .add_resident(home.id, NewResident { phone: Some(PHONE.into()), ..resident("张德顺", "19480305", true) })
        .unwrap();
    (grid, f.store.household(home.id).unwrap(), elder)
}

#[test]
fn lists_searches_and_records_show_numbers_masked_and_full_numbers_still_find_people() {
    let f = Fixture::new("王芳");
    let (grid, home, elder) = ledger(&f);
    let number = id_number("19480305", true);
    let masked = mask_id_number(&number);
    assert_eq!(masked, format!("{}**********{}", &number[..4], &number[14..]));
    assert_eq!(mask_phone(PHONE), "138****1111");

    assert_eq!((elder.id_number.as_deref(), elder.phone.as_deref()), (Some(masked.as_str()), Some("138****1111")));
    assert_eq!(home.phone.as_deref(), Some("139****2222"));
    let shown = f.store.resident(elder.id).unwrap();
    assert_eq!(shown, elder, "what add_resident returned is what the store shows");
    assert_eq!(f.store.residents_of(home.id).unwrap(), std::slice::from_ref(&elder));
    assert_eq!(f.store.households(grid.id, false, Page::ALL).unwrap(), std::slice::from_ref(&home));
    for text in [number.as_str(), PHONE, "1111", "张德"] {
        assert_eq!(f.store.search_residents(text, None, 10).unwrap(), std::slice::from_ref(&elder), "found by {text}");
    }
    assert_eq!(f.store.resident_with_id_number(&number).unwrap(), Some(elder.clone()));
    assert_eq!(f.store.residents_with_phone("138-1234-1111").unwrap(), std::slice::from_ref(&elder));
    assert!(f.store.residents_with_phone("13812342222").unwrap().is_empty());
    let tagged = f.store.residents_with_tag(gridbook_core::CareTag::Elderly, None, None).unwrap();
    assert_eq!(tagged, std::slice::from_ref(&elder));

    // An edit through the masked record keeps the full values: the store edits what it holds.
    let renamed =
        f.store.edit_resident(elder.id, ResidentEdit { name: Some("张德顺".into()), ..Default::default() }).unwrap();
    assert_eq!(renamed.id_number.as_deref(), Some(masked.as_str()));
    let full = f.store.reveal_resident(elder.id, "核对低保申请").unwrap();
    assert_eq!((full.id_number.as_deref(), full.phone.as_deref()), (Some(number.as_str()), Some(PHONE)));

    // History shows the values set, masked.
    let history = f.store.resident_history(elder.id).unwrap();
    let values: Vec<&str> = history.iter().filter_map(|h| h.value.as_deref()).collect();
    assert!(values.contains(&masked.as_str()) && values.contains(&"138****1111"), "{values:?}");
    assert!(!values.iter().any(|v| v.contains(&number) || v.contains(PHONE)), "{values:?}");
    let household_history = f.store.household_history(home.id).unwrap();
    assert!(household_history.iter().any(|h| h.value.as_deref() == Some("139****2222")));
}

#[test]
fn a_reveal_needs_a_reason_and_is_logged_before_the_values_are_returned() {
    let f = Fixture::new("王芳");
    let (grid, home, elder) = ledger(&f);
    for reason in ["", "  "] {
        let refused = f.store.reveal_resident(elder.id, reason);
        assert!(matches!(refused, Err(Error::InvalidInput { field: "reason", .. })), "{refused:?}");
    }
    assert!(f.store.access_log().unwrap().is_empty(), "a refused reveal logs nothing");

    f.clock.set(common::noon() + chrono::Duration::minutes(5));
    f.store.reveal_resident(elder.id, " 办理高龄补贴 ").unwrap();
    let phone = f.store.reveal_household(home.id, "通知停水").unwrap();
    assert_eq!(phone.phone.as_deref(), Some("13900002222"));
    let log = f.store.access_log().unwrap();
    assert_eq!(log.len(), 2);
    let (newest, first) = (&log[0], &log[1]);
    assert_eq!(newest.action, AccessAction::RevealHousehold);
    assert_eq!(
        (newest.records.as_slice(), newest.fields.as_slice()),
        (&[home.id.to_string()][..], &["phone".to_string()][..])
    );
    assert_eq!(first.action, AccessAction::RevealResident);
    assert_eq!(first.records, [elder.id.to_string()]);
    assert_eq!(first.fields, ["id_number", "phone"]);
    assert_eq!(first.reason, "办理高龄补贴");
    assert_eq!((first.by.as_str(), first.device.as_str()), ("王芳", "王芳-phone"));
    assert_eq!(first.grid_id, grid.id);
    assert_eq!(first.at, common::noon() + chrono::Duration::minutes(5));
    assert_eq!(first.actor, f.store.actor(), "the store's own actor wrote it");
    assert!(!first.verified, "no server has vouched for this store yet");

    // The log is a query table like the others: rebuilt from its documents, it is the same.
    let before = f.store.dump_query_tables().unwrap();
    f.store.rebuild_query_tables().unwrap();
    assert_eq!(f.store.dump_query_tables().unwrap(), before);
    let f = f.reopen();
    assert_eq!(f.store.access_log().unwrap(), log);
}

#[test]
fn a_roster_reveal_is_one_entry_naming_every_resident_exported() {
    let f = Fixture::new("王芳");
    let (grid, home, elder) = ledger(&f);
    let wife = f.resident(home.id, "李秀英", "19500606", false);
    let gone = f.resident(home.id, "张小军", "19800101", true);
    f.store.move_out_resident(gone.id).unwrap();
    let full = f.store.reveal_roster(grid.id, "年度人口核查").unwrap();
    let ids: HashSet<_> = full.iter().map(|r| r.id).collect();
    assert_eq!(ids, HashSet::from([elder.id, wife.id]), "present residents only");
    assert!(full.iter().all(|r| r.id_number.as_deref().is_some_and(|n| !n.contains('*'))));
    let log = f.store.access_log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AccessAction::ExportRoster);
    let named: HashSet<String> = log[0].records.iter().cloned().collect();
    assert_eq!(named, HashSet::from([elder.id.to_string(), wife.id.to_string()]));
}

#[test]
fn the_log_travels_to_another_store_under_its_writers_actor() {
    let a = Fixture::new("王芳");
    let (_, _, elder) = ledger(&a);
    a.store.reveal_resident(elder.id, "核对").unwrap();
    let b = Fixture::new("李强");
    let changes = a.store.changes_since(&Default::default()).unwrap();
    b.store.apply_changes(&changes).unwrap();
    let on_b = b.store.access_log().unwrap();
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].actor, a.store.actor(), "the author is the change's actor, not the reader");
    assert_eq!(on_b[0].reason, "核对");
}

/// The access log's change from `f`'s store, and the document it was made in.
fn log_change(f: &Fixture) -> (DocId, Automerge, Change) {
    let set = f.store.changes_since(&Default::default()).unwrap();
    let log = set.docs.into_iter().find(|d| d.doc.starts_with("a/")).unwrap();
    let id: DocId = log.doc.parse().unwrap();
    let changes: Vec<Change> = log.changes.into_iter().map(|c| Change::from_bytes(c).unwrap()).collect();
    let mut doc = Automerge::new();
    doc.apply_changes(changes.clone()).unwrap();
    (id, doc, changes.into_iter().last().unwrap())
}

#[test]
fn a_change_to_the_log_may_only_add_entries() {
    let f = Fixture::new("王芳");
    let (_, _, elder) = ledger(&f);
    f.store.reveal_resident(elder.id, "核对").unwrap();
    let (id, doc, change) = log_change(&f);
    let mut keys = HashSet::new();
    let entries = access_log_entries(&id, &change, &mut keys).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1.records, [elder.id.to_string()]);
    assert_eq!(access_log_entries(&id, &change, &mut keys), Err(AccessLogRefusal::Rewrites), "the key is taken");

    let entry_key = doc.keys(ROOT).next().unwrap();
    let edit = |f: &dyn Fn(&mut automerge::transaction::Transaction<'_>)| {
        let mut doc = doc.fork();
        let mut tx = doc.transaction();
        f(&mut tx);
        tx.commit();
        doc.get_last_local_change().unwrap()
    };
    let deleted = edit(&|tx| tx.delete(ROOT, entry_key.as_str()).unwrap());
    let replaced = edit(&|tx| tx.put(ROOT, entry_key.as_str(), "{}").unwrap());
    let object = edit(&|tx| {
        tx.put_object(ROOT, "access:0190a000-0000-7000-8000-000000000000", automerge::ObjType::Map).unwrap();
    });
    let garbage = edit(&|tx| tx.put(ROOT, "access:0190a000-0000-7000-8000-000000000000", "not json").unwrap());
    let stored: HashSet<String> = HashSet::from([entry_key.clone()]);
    assert_eq!(access_log_entries(&id, &deleted, &mut stored.clone()), Err(AccessLogRefusal::Rewrites));
    assert_eq!(access_log_entries(&id, &replaced, &mut stored.clone()), Err(AccessLogRefusal::Rewrites));
    assert_eq!(access_log_entries(&id, &object, &mut stored.clone()), Err(AccessLogRefusal::NotAnEntry));
    assert_eq!(access_log_entries(&id, &garbage, &mut stored.clone()), Err(AccessLogRefusal::NotAnEntry));

    // An entry copied into another grid's log is not that grid's.
    let other: DocId = id
        .to_string()
        .replace(&id.grid.to_string(), &gridbook_core::GridId(uuid::Uuid::nil()).to_string())
        .parse()
        .unwrap();
    assert_eq!(access_log_entries(&other, &change, &mut HashSet::new()), Err(AccessLogRefusal::NotAnEntry));
}
