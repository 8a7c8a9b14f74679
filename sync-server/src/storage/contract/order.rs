//! The contract of the sequence: numbers grow in commit order, are never handed out twice, and a
//! reader following the log while others commit never skips a change.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{DISTRICT, Fixture, change, commit, follow, query, register, seen};
use crate::storage::{Position, ReadScope, Storage};

pub(crate) fn sequence_numbers_follow_commit_order_and_survive_a_restart<F: Fixture>() {
    let mut f = F::new();
    register(f.storage(), 0);
    let (a, b) = ("j/g1/2026-12", "h/g1/1");
    f.storage().commit(commit(0, vec![change(b, 1), change(a, 2), change(b, 3)])).expect("first");
    f.storage().commit(commit(0, vec![change(a, 4), change(b, 5)])).expect("second");
    let log = |f: &F, after| follow(f.storage(), query(after, &ReadScope::All, "reader", 100));
    let (before, end) = log(&f, Position::default());
    let order: Vec<Vec<u8>> =
        [(b, 1), (a, 2), (b, 3), (a, 4), (b, 5)].iter().map(|(d, n)| change(d, *n).bytes).collect();
    assert_eq!(before.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(), order, "in commit order");
    assert!(before.windows(2).all(|w| w[0].seq < w[1].seq), "numbers grow: {:?}", seen(&before));
    let instance = f.storage().instance();

    f.reopen();
    assert_eq!(f.storage().district(), DISTRICT);
    assert_eq!(f.storage().instance(), instance, "a device's cursor names the instance");
    let (again, _) = log(&f, Position::default());
    assert_eq!(seen(&again), seen(&before), "the log is the same after a restart");
    f.storage().commit(commit(0, vec![change(a, 6)])).expect("after the restart");
    let (new, _) = log(&f, end);
    assert_eq!(seen(&new).len(), 1, "a cursor from before the restart receives just what is new");
    assert_eq!(new[0].bytes, change(a, 6).bytes);
    assert!(new[0].seq > before.iter().map(|c| c.seq).max().unwrap_or_default(), "a number is never reused");
}

/// A sequence number handed out before its transaction commits, and seen by a reader after a later
/// one did, would let the reader's cursor pass it: the change would never reach that reader.
pub(crate) fn a_reader_following_the_log_during_commits_misses_nothing<F: Fixture>() {
    const WRITERS: u8 = 4;
    const COMMITS: u8 = 25;
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    let writing = AtomicBool::new(true);
    let received = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let (mut received, mut after) = (Vec::new(), Position::default());
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let (page, cursor) = follow(s, query(after, &ReadScope::All, "reader", 7));
                received.extend(page);
                after = cursor;
                if done {
                    return received;
                }
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                scope.spawn(move || {
                    for n in 0..COMMITS {
                        let doc = format!("h/g1/{w}");
                        s.commit(commit(0, vec![change(&doc, 2 * n), change(&doc, 2 * n + 1)])).expect("commit");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("a writer");
        }
        writing.store(false, Ordering::SeqCst);
        reader.join().expect("the reader")
    });

    let seqs: Vec<i64> = received.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "each change once, in order");
    let bytes: BTreeSet<Vec<u8>> = received.into_iter().map(|c| c.bytes).collect();
    let all: BTreeSet<Vec<u8>> =
        (0..WRITERS).flat_map(|w| (0..2 * COMMITS).map(move |n| change(&format!("h/g1/{w}"), n).bytes)).collect();
    assert_eq!(bytes, all, "every change reached the reader");
    assert_eq!(s.change_count().expect("count"), all.len() as u64);
}
