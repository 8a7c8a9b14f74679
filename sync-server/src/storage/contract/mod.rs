//! The storage contract as a test suite, written once against the [`Storage`] trait and run against
//! every backend: a backend provides a [`Fixture`] and instantiates the suite with
//! [`storage_contract!`], so that a second backend (PostgreSQL is next) has the same tests to pass
//! as SQLite. What only one backend does (its schema's migrations, its checkpoints, how it batches
//! commits) is tested beside that backend's code instead.

pub(crate) mod commit;
pub(crate) mod devices;
pub(crate) mod enrolment;
pub(crate) mod erasure;
pub(crate) mod keys;
pub(crate) mod order;
pub(crate) mod paging;
pub(crate) mod photos;
pub(crate) mod proofs;

use super::{Commit, Device, LogChange, LogQuery, NewChange, Position, ReadScope, Role, Storage};

/// The district every fixture's storage is made for.
pub(crate) const DISTRICT: &str = "d1";

/// One backend's storage, as the suite drives it.
pub(crate) trait Fixture: Sized {
    type Storage: Storage;
    /// A new, empty storage for [`DISTRICT`].
    fn new() -> Self;
    fn storage(&self) -> &Self::Storage;
    /// Closes the storage and opens the same data again, as a restart of the server does.
    fn reopen(&mut self);
}

/// Expands into a module `$backend` holding one `#[test]` per clause of the contract, each run on a
/// fresh `$fixture` (a type implementing [`Fixture`], named as the invoking module sees it).
macro_rules! storage_contract {
    ($backend:ident, $fixture:ty) => {
        mod $backend {
            use super::*;
            $crate::storage::contract::storage_contract!(@tests $fixture;
                commit::a_change_is_stored_once_per_document_and_hash,
                commit::a_refused_commit_stores_nothing_of_its_own,
                commit::a_refused_commit_takes_nothing_of_the_others_with_it,
                commit::facts_are_stored_with_their_commit,
                commit::a_change_is_found_by_its_actor_and_sequence_number,
                commit::the_access_logs_changes_are_read_alone_in_log_order,
                order::sequence_numbers_follow_commit_order_and_survive_a_restart,
                order::a_reader_following_the_log_during_commits_misses_nothing,
                paging::pages_deliver_every_change_once_in_log_order,
                paging::a_page_keeps_within_its_byte_budget_but_always_moves_on,
                paging::a_page_holds_only_the_grids_in_scope_and_never_the_readers_own_changes,
                paging::an_event_dispatched_late_comes_whole_across_pages_that_split_it,
                devices::a_device_is_registered_once_by_name_and_found_by_its_token,
                devices::a_revoked_device_stays_listed_as_revoked_and_its_actors_say_so,
                devices::a_revocation_keeps_its_reason_and_a_lost_device_stays_lost,
                photos::a_photo_is_bound_only_to_the_events_it_was_uploaded_for,
                enrolment::the_server_keeps_its_key_across_a_restart,
                enrolment::a_device_added_without_a_token_gets_one_when_it_enrols,
                enrolment::a_code_enrols_once_before_it_expires_and_never_a_revoked_device,
                enrolment::a_new_code_replaces_the_unused_one,
                enrolment::an_actor_keeps_its_device_and_its_first_key,
                enrolment::authors_name_the_device_of_each_known_actor,
                keys::the_first_key_of_a_record_is_kept_and_found_by_id_and_document,
                keys::a_commits_keys_are_kept_with_its_changes_and_the_first_key_still_wins,
                erasure::a_resident_is_erased_once_and_only_its_key_goes,
                erasure::a_household_takes_its_residents_keys_and_its_changes_with_it,
                erasure::notices_follow_scope_and_pruning_leaves_a_watermark,
                proofs::a_change_is_read_back_with_the_proof_of_its_author,
            );
        }
    };
    (@tests $fixture:ty; $($clause:ident :: $test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::storage::contract::$clause::$test::<$fixture>();
            }
        )*
    };
}
pub(crate) use storage_contract;

/// A device of the fixture's district: `device-{n}`, named `phone {n}`, its token hash `[n; 32]`.
fn device(n: u8) -> Device {
    Device {
        id: format!("device-{n}"),
        name: format!("phone {n}"),
        role: Role::GridMember,
        grids: vec!["g1".into()],
        village: None,
        department: None,
        holder: format!("holder {n}"),
        created_at: i64::from(n),
        revoked_at: None,
        revoked_as: None,
    }
}

/// Registers [`device`] `n`.
fn register(storage: &impl Storage, n: u8) -> Device {
    let device = device(n);
    storage.add_device(&device, Some(&[n; 32])).expect("the device is registered");
    device
}

/// A change to `doc` (`kind/grid/…`) with hash `[n; 32]`, by `device-0`; its bytes name both, so
/// two changes differ in their bytes unless they are one change of one document.
fn change(doc: &str, n: u8) -> NewChange {
    NewChange {
        hash: [n; 32],
        doc: doc.into(),
        grid: doc.split('/').nth(1).unwrap_or_default().into(),
        author: "device-0".into(),
        actor: vec![0xaa],
        seq: u64::from(n),
        bytes: format!("{doc}#{n}").into_bytes(),
    }
}

/// A commit of `device-{device}`'s changes, binding no actor.
fn commit(device: u8, changes: Vec<NewChange>) -> Commit {
    Commit { device: format!("device-{device}"), changes, ..Commit::default() }
}

/// A query of up to `max_changes` changes after `after`, for a reader that is `reader`.
fn query(after: Position, scope: &ReadScope, reader: &str, max_changes: usize) -> LogQuery {
    LogQuery { after, scope: scope.clone(), exclude_author: reader.into(), max_changes, max_bytes: 1 << 30 }
}

/// What a reader sees of a change: its sequence number and bytes.
fn seen(changes: &[LogChange]) -> Vec<(i64, Vec<u8>)> {
    changes.iter().map(|c| (c.seq, c.bytes.clone())).collect()
}

/// Follows the log from `after` page by page until it says there is no more, checking that no
/// cursor goes back; returns every change delivered and the last cursor.
fn follow(storage: &impl Storage, mut q: LogQuery) -> (Vec<LogChange>, Position) {
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let page = storage.read_log(&q).expect("a page");
        assert!(page.cursor >= q.after, "a cursor never goes back: {:?} after {:?}", page.cursor, q.after);
        assert!(page.changes.len() <= q.max_changes, "a page holds at most what was asked");
        all.extend(page.changes);
        q.after = page.cursor;
        if !page.more {
            return (all, q.after);
        }
    }
    panic!("the log never ended");
}
