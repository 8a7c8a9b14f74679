//! The contract of `read_log`: pages by cursor deliver every change in scope exactly once, in log
//! order, also when a page ends inside a group of changes that became visible together.

use super::{Fixture, change, commit, follow, query, register, seen};
use crate::storage::{DocFacts, LogQuery, Position, ReadScope, Storage};

pub(crate) fn pages_deliver_every_change_once_in_log_order<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    for n in 0..5 {
        s.commit(commit(0, vec![change("h/g1/1", 2 * n), change("h/g1/2", 2 * n + 1)])).expect("commit");
    }
    let (whole, end) = follow(s, query(Position::default(), &ReadScope::All, "reader", 100));
    assert_eq!(whole.len(), 10);

    let mut q = query(Position::default(), &ReadScope::All, "reader", 3);
    let (mut paged, mut mores) = (Vec::new(), Vec::new());
    loop {
        let page = s.read_log(&q).expect("page");
        mores.push(page.more);
        paged.extend(page.changes);
        q.after = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(mores, [true, true, true, false]);
    assert_eq!(seen(&paged), seen(&whole));
    assert_eq!(q.after, end);
    // At the end, a reader stays at the end.
    let page = s.read_log(&q).expect("page");
    assert!(page.changes.is_empty() && !page.more);
    assert_eq!(page.cursor, end);
}

pub(crate) fn a_page_keeps_within_its_byte_budget_but_always_moves_on<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    let sized = |n: u8| {
        let mut c = change("h/g1/1", n);
        c.bytes = vec![n; 100];
        c
    };
    s.commit(commit(0, (0..6).map(sized).collect())).expect("commit");
    let budget = |max_bytes| LogQuery { max_bytes, ..query(Position::default(), &ReadScope::All, "reader", 100) };

    let page = s.read_log(&budget(250)).expect("page");
    assert_eq!(page.changes.len(), 2, "two changes fit in the budget, a third would not");
    assert!(page.more);
    // A change larger than the budget still goes, alone: a reader never stalls.
    let (changes, _) = follow(s, budget(10));
    assert_eq!(
        changes.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(),
        (0..6).map(|n| vec![n; 100]).collect::<Vec<_>>()
    );
    let page = s.read_log(&budget(10)).expect("page");
    assert_eq!(page.changes.len(), 1);
}

pub(crate) fn a_page_holds_only_the_grids_in_scope_and_never_the_readers_own_changes<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    register(s, 1);
    let by = |author: &str, doc: &str, n| {
        let mut c = change(doc, n);
        c.author = author.into();
        c
    };
    s.commit(commit(0, vec![by("device-0", "h/g1/1", 1), by("device-0", "h/g2/1", 2)])).expect("commit");
    s.commit(commit(1, vec![by("device-1", "h/g1/1", 3), by("device-1", "h/g3/1", 4)])).expect("commit");

    let g1 = ReadScope::Grids(vec!["g1".into()]);
    let (changes, _) = follow(s, query(Position::default(), &g1, "device-1", 1));
    assert_eq!(changes.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(), [change("h/g1/1", 1).bytes]);
    let both = ReadScope::Grids(vec!["g1".into(), "g3".into()]);
    let (changes, _) = follow(s, query(Position::default(), &both, "device-0", 1));
    let expected = [change("h/g1/1", 3).bytes, change("h/g3/1", 4).bytes];
    assert_eq!(changes.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(), expected);
    assert!(changes.iter().all(|c| c.doc != "h/g2/1"));

    // A reader with nothing in scope still moves to the end of the log, so its next sync starts there.
    let (nothing, end) = follow(s, query(Position::default(), &ReadScope::Grids(vec!["g9".into()]), "x", 1));
    let (_, all_end) = follow(s, query(Position::default(), &ReadScope::All, "x", 100));
    assert!(nothing.is_empty());
    assert_eq!(end, all_end);
}

/// An event becomes visible to a department when it is dispatched there, all its earlier changes
/// at once: they share one place in that department's log, and a page may end among them.
pub(crate) fn an_event_dispatched_late_comes_whole_across_pages_that_split_it<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    let fire = ReadScope::Department("fire".into());
    let dispatch = |doc: &str| DocFacts { doc: doc.into(), departments: vec!["fire".into()], ..DocFacts::default() };
    let mut early = commit(0, vec![change("e/g1/early", 1)]);
    early.facts = vec![dispatch("e/g1/early")];
    s.commit(early).expect("an event dispatched at once");
    let (first, cursor) = follow(s, query(Position::default(), &fire, "dept", 2));
    assert_eq!(seen(&first), [(first[0].seq, change("e/g1/early", 1).bytes)]);

    // Changes to an event not yet dispatched, to one never dispatched, then the dispatch.
    s.commit(commit(0, (2..6).map(|n| change("e/g1/late", n)).collect())).expect("before dispatch");
    s.commit(commit(0, vec![change("e/g1/other", 9)])).expect("another event");
    assert!(follow(s, query(cursor, &fire, "dept", 2)).0.is_empty(), "nothing visible yet");
    let mut dispatched = commit(0, vec![change("e/g1/late", 6)]);
    dispatched.facts = vec![dispatch("e/g1/late")];
    s.commit(dispatched).expect("the dispatch");

    let mut q = query(cursor, &fire, "dept", 2);
    let first_page = s.read_log(&q).expect("page");
    assert!(first_page.more && first_page.cursor.is_partial(), "the page ends inside the event's group");
    q.after = first_page.cursor;
    let (rest, end) = follow(s, q);
    let mut late = first_page.changes;
    late.extend(rest);
    let expected: Vec<Vec<u8>> = (2..7).map(|n| change("e/g1/late", n).bytes).collect();
    assert_eq!(late.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(), expected, "each once, in order");
    assert!(late.iter().all(|c| c.doc == "e/g1/late"));
    assert!(!end.is_partial());

    // Once dispatched, an event's new changes come as any other.
    s.commit(commit(0, vec![change("e/g1/late", 7), change("e/g1/other", 10)])).expect("after");
    let (after, _) = follow(s, query(end, &fire, "dept", 2));
    assert_eq!(after.iter().map(|c| c.bytes.clone()).collect::<Vec<_>>(), [change("e/g1/late", 7).bytes]);
}
