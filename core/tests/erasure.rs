//! Erasure on a store, against a server simulated by building its answers: asking (kept until
//! the server answers), carrying out a notice (key, rows and a household's document gone, nothing
//! of it shown, waited for or written again), a key refused as erased, and starting over after
//! missed notices.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Fixture, id_number};
use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{
    EraseRefusal, ErasedKind, ErasureNotice, KeyRefusal, MAX_ERASE_REASON, Refusal, SyncResponse,
};
use gridbook_core::{
    Day, ErasureState, Error, Household, NewRoutine, NewVisit, Resident, ResidentEdit, SignalKind, Store, VisitKind,
};

fn round(store: &Store, response: SyncResponse) -> gridbook_core::sync::Round {
    let prepared = store.prepare_sync(1 << 20).unwrap();
    store.finish_sync(&prepared, SyncResponse { cursor: vec![7], ..response }).unwrap()
}

/// Everything `from` has, handed to `to` as the server would pass it on, with its keys.
fn relay(from: &Store, to: &Store) {
    let all = from.changes_since(&Default::default()).unwrap();
    round(from, SyncResponse::default());
    round(to, SyncResponse { docs: all.docs, keys: all.keys, ..Default::default() });
}

fn notice(seq: u64, r: &Resident) -> ErasureNotice {
    ErasureNotice {
        seq,
        id: r.id.0.into_bytes(),
        doc: format!("h/{}/{}", r.grid_id, r.household_id),
        kind: ErasedKind::Resident,
    }
}

fn household_notice(seq: u64, h: &Household) -> ErasureNotice {
    ErasureNotice {
        seq,
        id: h.id.0.into_bytes(),
        doc: format!("h/{}/{}", h.grid_id, h.id),
        kind: ErasedKind::Household,
    }
}

fn count(f: &Fixture, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(f.dir.path().join("gridbook.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

struct Village {
    f: Fixture,
    home: Household,
    erased: Resident,
    kept: Resident,
}

fn village() -> Village {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "幸福村一组1号");
    let erased = f.resident(home.id, "欧阳娜娜", "19560312", false);
    let kept = f.resident(home.id, "李建国", "19500101", true);
    round(&f.store, SyncResponse::default());
    Village { f, home, erased, kept }
}

#[test]
fn asking_checks_the_reason_and_changes_nothing_until_the_server_answers() {
    let v = village();
    let s = &v.f.store;
    assert!(matches!(s.erase_resident(v.erased.id, "  "), Err(Error::InvalidInput { .. })));
    let long = "因".repeat(MAX_ERASE_REASON / 3 + 1);
    assert!(matches!(s.erase_resident(v.erased.id, &long), Err(Error::InvalidInput { .. })));
    let unknown = gridbook_core::ResidentId(uuid::Uuid::now_v7());
    assert!(matches!(s.erase_resident(unknown, "本人申请"), Err(Error::NotFound { .. })));
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::NotRequested);

    s.erase_resident(v.erased.id, "本人申请删除").unwrap();
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::Requested);
    let request = s.prepare_sync(1 << 20).unwrap().request;
    assert_eq!(request.erase.len(), 1);
    assert_eq!(request.erase[0].id, v.erased.id.0.into_bytes());
    assert_eq!(request.erase[0].kind, ErasedKind::Resident);
    assert_eq!(request.erase[0].reason, "本人申请删除");
    assert_eq!(s.resident(v.erased.id).unwrap().name, "欧阳娜娜", "kept until the server's notice");

    // A grid member may not erase: the refusal is kept, and the request goes no more.
    let refused = EraseRefusal { id: v.erased.id.0.into_bytes(), reason: RefusalReason::NotAllowed };
    round(s, SyncResponse { erase_refused: vec![refused], ..Default::default() });
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::Refused { reason: RefusalReason::NotAllowed });
    assert!(s.prepare_sync(1 << 20).unwrap().request.erase.is_empty());
    assert_eq!(s.resident(v.erased.id).unwrap().name, "欧阳娜娜");
    let listed = s.erasures().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, ErasureState::Refused { reason: RefusalReason::NotAllowed });
    // A refusal of an erasure the request did not carry is not the server's to give.
    let stray = EraseRefusal { id: v.kept.id.0.into_bytes(), reason: RefusalReason::NotAllowed };
    round(s, SyncResponse { erase_refused: vec![stray], ..Default::default() });
    assert_eq!(s.erasure_state(v.kept.id.0).unwrap(), ErasureState::NotRequested);
}

#[test]
fn a_notice_destroys_the_key_and_every_row_and_nothing_brings_them_back() {
    let v = village();
    let s = &v.f.store;
    let other = Fixture::new("李秘书");
    relay(s, &other.store);
    assert_eq!(other.store.resident(v.erased.id).unwrap().name, "欧阳娜娜");
    let number = id_number("19560312", false);
    let every_day = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];
    let routine = NewRoutine {
        signal: SignalKind::Curtains,
        deadline: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        days: every_day.into_iter().collect(),
        note: "拉开东面窗帘".into(),
    };
    s.add_routine(v.erased.id, routine.clone()).unwrap();
    s.add_routine(v.kept.id, routine).unwrap();
    s.erase_resident(v.erased.id, "本人申请删除").unwrap();
    let done = round(s, SyncResponse { erased: vec![notice(3, &v.erased)], ..Default::default() });
    assert_eq!(done.erasure.erased, 1);

    assert!(matches!(s.resident(v.erased.id), Err(Error::Erased { .. })));
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::Erased);
    assert_eq!(s.residents_of(v.home.id).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![v.kept.id]);
    assert!(s.search_residents("欧阳", None, 10).unwrap().is_empty());
    assert!(s.search_residents(&number, None, 10).unwrap().is_empty());
    assert!(s.resident_history(v.kept.id).is_ok());
    let due = s.due_checks(None, s.today()).unwrap();
    assert_eq!(due.iter().map(|d| d.resident_id).collect::<Vec<_>>(), vec![v.kept.id], "its routine went with it");
    let history = s.household_history(v.home.id).unwrap();
    assert!(history.iter().all(|e| e.record != format!("resident:{}", v.erased.id)));
    assert_eq!(count(&v.f, &format!("SELECT COUNT(*) FROM data_keys WHERE id = x'{}'", v.erased.id.0.simple())), 0);
    assert_eq!(s.prepare_sync(1 << 20).unwrap().request.erased_since, 3);
    let again = round(s, SyncResponse { erased: vec![notice(3, &v.erased)], ..Default::default() });
    assert_eq!(again.erasure.erased, 0, "a notice carried out again is not counted again");

    // Writes to it fail; its key sent again is dropped; a rebuild does not bring it back; nor do
    // another store's edits of it, made before it heard of the erasure.
    let edit = ResidentEdit { phone: Some(Some("13900001111".into())), ..Default::default() };
    assert!(matches!(s.edit_resident(v.erased.id, edit.clone()), Err(Error::Erased { .. })));
    other.store.edit_resident(v.erased.id, edit).unwrap();
    relay(&other.store, s);
    s.rebuild_query_tables().unwrap();
    assert!(matches!(s.resident(v.erased.id), Err(Error::Erased { .. })));
    assert!(s.prepare_sync(1 << 20).unwrap().request.wants.is_empty(), "no key is waited for");
    assert_eq!(count(&v.f, &format!("SELECT COUNT(*) FROM data_keys WHERE id = x'{}'", v.erased.id.0.simple())), 0);
    // The rest of the household goes on and merges.
    let edit = ResidentEdit { phone: Some(Some("13700002222".into())), ..Default::default() };
    other.store.edit_resident(v.kept.id, edit).unwrap();
    relay(&other.store, s);
    assert_eq!(s.resident(v.kept.id).unwrap().phone.as_deref(), Some("137****2222"));
}

#[test]
fn a_household_notice_removes_its_document_and_counts_the_unsent_changes_that_went_with_it() {
    let v = village();
    let s = &v.f.store;
    let neighbour = v.f.household(v.home.grid_id, "幸福村一组2号");
    let visit = NewVisit {
        kind: VisitKind::Home,
        at: None,
        purposes: vec!["安全".into()],
        notes: "老人独居".into(),
        satisfaction: None,
    };
    s.record_visit(v.home.id, visit.clone()).unwrap();
    s.record_visit(neighbour.id, visit).unwrap();
    let other = Fixture::new("李秘书");
    relay(s, &other.store);
    let edit = gridbook_core::HouseholdEdit { notes: Some("门牌已换".into()), ..Default::default() };
    s.edit_household(v.home.id, edit.clone()).unwrap();
    s.edit_household(neighbour.id, edit).unwrap();

    // The server refuses the edit of the erased household; the notice comes in the same answer.
    let prepared = s.prepare_sync(1 << 20).unwrap();
    let doc = format!("h/{}/{}", v.home.grid_id, v.home.id);
    let response = SyncResponse {
        cursor: vec![8],
        refused: vec![Refusal { doc: doc.clone(), reason: RefusalReason::Erased }],
        erased: vec![household_notice(5, &v.home)],
        ..Default::default()
    };
    let done = s.finish_sync(&prepared, response).unwrap();
    assert_eq!(done.erasure.erased, 1);
    assert_eq!(done.erasure.discarded_changes, 1);

    assert!(matches!(s.household(v.home.id), Err(Error::Erased { .. })));
    assert!(matches!(s.resident(v.kept.id), Err(Error::Erased { .. })));
    assert!(s.visits_of(neighbour.id).unwrap().len() == 1);
    assert_eq!(s.households(v.home.grid_id, true, gridbook_core::Page::ALL).unwrap().len(), 1);
    assert_eq!(count(&v.f, &format!("SELECT COUNT(*) FROM docs WHERE id = '{doc}'")), 0);
    assert_eq!(count(&v.f, &format!("SELECT COUNT(*) FROM changes WHERE doc_id = '{doc}'")), 0);
    assert_eq!(count(&v.f, "SELECT COUNT(*) FROM data_keys WHERE doc LIKE 'h/%'"), 1, "the neighbour's alone");
    assert_eq!(count(&v.f, "SELECT COUNT(*) FROM visits"), 1);
    let status = s.sync_status().unwrap();
    assert!(status.refused.is_empty());
    assert_eq!(status.pending_changes, 0, "the neighbour's edit went up; nothing of the household waits");
    assert!(matches!(s.add_resident(v.home.id, common::resident("新人", "19900101", true)), Err(Error::Erased { .. })));
    // Its document sent again by a store that has not heard of the erasure is not kept.
    let edit = gridbook_core::HouseholdEdit { notes: Some("另一台".into()), ..Default::default() };
    other.store.edit_household(v.home.id, edit).unwrap();
    relay(&other.store, s);
    assert!(!s.heads().unwrap().0.contains_key(&doc));
    assert!(matches!(s.household(v.home.id), Err(Error::Erased { .. })));
}

#[test]
fn a_key_refused_as_erased_erases_the_record_on_a_store_that_missed_the_notice() {
    let v = village();
    let fresh = Fixture::new("新手机");
    // The household's document reaches the fresh store without the resident's key.
    let all = v.f.store.changes_since(&Default::default()).unwrap();
    let keys = all.keys.into_iter().filter(|k| k.id != v.erased.id.0.into_bytes()).collect();
    let docs = all.docs;
    round(&fresh.store, SyncResponse { docs, keys, ..Default::default() });
    assert!(fresh.store.resident(v.erased.id).is_err());
    let wants = fresh.store.prepare_sync(1 << 20).unwrap().request.wants;
    assert_eq!(wants.iter().map(|w| w.id).collect::<Vec<_>>(), vec![v.erased.id.0.into_bytes()]);

    let refused = KeyRefusal { id: v.erased.id.0.into_bytes(), reason: RefusalReason::Erased };
    let done = round(&fresh.store, SyncResponse { key_refused: vec![refused], ..Default::default() });
    assert_eq!(done.erasure.erased, 1);
    assert_eq!(fresh.store.erasure_state(v.erased.id.0).unwrap(), ErasureState::Erased);
    assert!(fresh.store.prepare_sync(1 << 20).unwrap().request.wants.is_empty());
    assert_eq!(fresh.store.resident(v.kept.id).unwrap().name, "李建国");
}

#[test]
fn resync_drops_every_key_and_the_servers_answers_erase_what_it_erased() {
    let v = village();
    let s = &v.f.store;
    let neighbour = v.f.household(v.home.grid_id, "幸福村一组2号");
    let server_keys = s.changes_since(&Default::default()).unwrap().keys;
    let edit = gridbook_core::HouseholdEdit { notes: Some("门牌已换".into()), ..Default::default() };
    s.edit_household(neighbour.id, edit).unwrap();

    // The server pruned a notice this store never saw.
    let prepared = s.prepare_sync(1 << 20).unwrap();
    let done = s.finish_sync(&prepared, SyncResponse { cursor: vec![9], resync: true, ..Default::default() }).unwrap();
    assert!(done.again && done.erasure.resynced);
    assert_eq!(count(&v.f, "SELECT COUNT(*) FROM data_keys"), 0);
    assert!(matches!(s.household(v.home.id), Err(Error::NotFound { .. })), "nothing is read without its key");
    let request = s.prepare_sync(1 << 20).unwrap().request;
    assert_eq!(request.cursor, vec![9], "the answer's cursor is kept");
    let mut wanted: Vec<[u8; 16]> = request.wants.iter().map(|w| w.id).collect();
    let mut expected: Vec<[u8; 16]> =
        [v.home.id.0, neighbour.id.0, v.erased.id.0, v.kept.id.0].map(|id| id.into_bytes()).into();
    wanted.sort();
    expected.sort();
    assert_eq!(wanted, expected, "every key is asked for again");

    // The server sends the keys of what stands and refuses the erased resident's.
    let keys = server_keys.into_iter().filter(|k| k.id != v.erased.id.0.into_bytes()).collect();
    let refused = KeyRefusal { id: v.erased.id.0.into_bytes(), reason: RefusalReason::Erased };
    let done = round(s, SyncResponse { keys, key_refused: vec![refused], ..Default::default() });
    assert_eq!(done.erasure.erased, 1);
    assert_eq!(s.erasure_state(v.erased.id.0).unwrap(), ErasureState::Erased);
    assert_eq!(s.resident(v.kept.id).unwrap().name, "李建国");
    assert_eq!(s.household(neighbour.id).unwrap().notes, "门牌已换", "its own work stays");
    assert_eq!(s.sync_status().unwrap().pending_changes, 0);
    assert!(s.prepare_sync(1 << 20).unwrap().request.wants.is_empty());

    // A store that syncs from the start holds the server's copy: it is never told to start over.
    let fresh = Fixture::new("新手机");
    let prepared = fresh.store.prepare_sync(1 << 20).unwrap();
    let done = fresh.store.finish_sync(&prepared, SyncResponse { resync: true, ..Default::default() }).unwrap();
    assert!(!done.again && !done.erasure.resynced);
}

#[test]
fn the_purge_leaves_no_plaintext_of_the_erased_resident_in_the_store_files() {
    let v = village();
    let s = &v.f.store;
    let edit = ResidentEdit { phone: Some(Some("13912345678".into())), ..Default::default() };
    s.edit_resident(v.erased.id, edit).unwrap();
    round(s, SyncResponse::default());
    let scan = |needle: &str| -> bool {
        std::fs::read_dir(v.f.dir.path()).unwrap().any(|f| {
            let bytes = std::fs::read(f.unwrap().path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
    };
    assert!(scan("欧阳娜娜") && scan("李建国"), "the scan sees the plaintext store");
    round(s, SyncResponse { erased: vec![notice(1, &v.erased)], ..Default::default() });
    assert!(!scan("欧阳娜娜"));
    assert!(!scan("13912345678"));
    assert!(!scan(&id_number("19560312", false)));
    assert!(scan("李建国"), "the rest is there");
}
