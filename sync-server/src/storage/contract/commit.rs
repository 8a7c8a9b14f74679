//! The contract of `commit`: once per document and hash, all or nothing, and the facts and the grid
//! registry with it.

use std::sync::Barrier;

use super::{Fixture, change, commit, register};
use crate::storage::{DocFacts, GridEntry, Storage, StorageError};

/// A registry entry for grid `id` in `village`, named `name`.
fn entry(id: &str, name: &str, village: &str) -> GridEntry {
    GridEntry {
        id: id.into(),
        name: name.into(),
        village: village.into(),
        township: "t".into(),
        registered_by: "device-0".into(),
        registered_at: 1,
    }
}

pub(crate) fn a_change_is_stored_once_per_document_and_hash<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    let (a, b) = ("j/g1/2026-12", "h/g1/1");
    assert_eq!(s.commit(commit(0, vec![change(a, 1), change(a, 2)])).expect("first"), 2);
    // A retried request: what the log holds is skipped and not counted, what is new is stored.
    assert_eq!(s.commit(commit(0, vec![change(a, 1), change(a, 3)])).expect("retry"), 1);
    assert_eq!(s.commit(commit(0, vec![change(a, 2)])).expect("repeat"), 0);
    // One change twice in one request is one change.
    assert_eq!(s.commit(commit(0, vec![change(a, 4), change(a, 4)])).expect("twice"), 1);
    // The same change in another document is that document's, and stored.
    assert_eq!(s.commit(commit(0, vec![change(b, 1)])).expect("other document"), 1);

    assert_eq!(s.change_count().expect("count"), 5);
    let bytes = |doc: &str, ns: &[u8]| ns.iter().map(|n| change(doc, *n).bytes).collect::<Vec<_>>();
    assert_eq!(s.doc_changes(a).expect("a"), bytes(a, &[1, 2, 3, 4]));
    assert_eq!(s.doc_changes(b).expect("b"), bytes(b, &[1]));
    assert!(s.doc_changes("h/g1/none").expect("none").is_empty());
}

pub(crate) fn a_refused_commit_stores_nothing_of_its_own<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    register(s, 1);
    let mut first = commit(0, vec![change("j/g1/2026-12", 1)]);
    first.bind_actor = Some(vec![7]);
    assert_eq!(s.commit(first).expect("device 0 binds actor 7"), 1);

    // Device 1 presents device 0's actor, with changes and facts of every kind.
    let (grid, event) = ("g/g2", "e/g2/1");
    let facts = vec![DocFacts { doc: event.into(), departments: vec!["fire".into()], photos: vec!["p1".into()] }];
    let mut refused = commit(1, vec![change(grid, 2), change(event, 3), change("j/g1/2026-12", 4)]);
    refused.bind_actor = Some(vec![7]);
    refused.facts = facts.clone();
    refused.grids = vec![entry("g2", "two", "v1")];
    assert!(matches!(s.commit(refused), Err(StorageError::ActorTaken)));

    assert_eq!(s.change_count().expect("count"), 1);
    assert!(s.doc_changes(grid).expect("grid").is_empty());
    assert!(s.doc_changes(event).expect("event").is_empty());
    assert_eq!(s.grid("g2").expect("registry"), None);
    assert!(s.grids_in_village("v1").expect("grids").is_empty());
    assert!(s.departments_of(event).expect("departments").is_empty());
    assert!(s.docs_with_photo("p1").expect("photo").is_empty());
    assert_eq!(s.actor_owner(&[7]).expect("owner"), Some(("device-0".into(), false)));

    // With an actor of its own, the same commit is stored whole.
    let mut own = commit(1, vec![change(grid, 2), change(event, 3), change("j/g1/2026-12", 4)]);
    own.bind_actor = Some(vec![8]);
    own.facts = facts;
    own.grids = vec![entry("g2", "two", "v1")];
    assert_eq!(s.commit(own).expect("device 1 binds actor 8"), 3);
    assert_eq!(s.actor_owner(&[8]).expect("owner"), Some(("device-1".into(), false)));
    assert_eq!(s.grid("g2").expect("registry"), Some(entry("g2", "two", "v1")));
}

/// Requests arriving together may share a transaction (SQLite's group commit does): a refused one
/// among them takes nothing of the others, and nothing of its own.
pub(crate) fn a_refused_commit_takes_nothing_of_the_others_with_it<F: Fixture>() {
    const DEVICES: u8 = 8;
    const ROUNDS: u8 = 10;
    let f = F::new();
    let s = f.storage();
    for n in 0..DEVICES {
        register(s, n);
    }
    let mut first = commit(0, Vec::new());
    first.bind_actor = Some(vec![0]);
    s.commit(first).expect("device 0 binds actor 0");

    let barrier = Barrier::new(usize::from(DEVICES));
    std::thread::scope(|scope| {
        for n in 0..DEVICES {
            let barrier = &barrier;
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let doc = format!("j/g{n}/2026-{:02}", round + 1);
                    let mut c = commit(n, vec![change(&doc, 1), change(&doc, 2), change(&doc, 3)]);
                    // Odd devices present device 0's actor; even ones their own.
                    c.bind_actor = Some(vec![if n % 2 == 1 { 0 } else { n }]);
                    barrier.wait();
                    let result = s.commit(c);
                    if n % 2 == 1 {
                        assert!(matches!(result, Err(StorageError::ActorTaken)), "device {n}: {result:?}");
                    } else {
                        assert_eq!(result.expect("an even device's commit"), 3, "device {n}");
                    }
                }
            });
        }
    });

    let stored = u64::from(DEVICES / 2) * u64::from(ROUNDS) * 3;
    assert_eq!(s.change_count().expect("count"), stored);
    for n in 0..DEVICES {
        let doc = format!("j/g{n}/2026-01");
        let expected = if n % 2 == 1 { 0 } else { 3 };
        assert_eq!(s.doc_changes(&doc).expect("changes").len(), expected, "device {n}");
    }
}

pub(crate) fn facts_are_stored_with_their_commit<F: Fixture>() {
    let mut f = F::new();
    let s = f.storage();
    register(s, 0);
    let event_facts = |departments: &[&str], photos: &[&str]| DocFacts {
        doc: "e/g1/1".into(),
        departments: departments.iter().map(|d| d.to_string()).collect(),
        photos: photos.iter().map(|p| p.to_string()).collect(),
    };
    let mut c = commit(0, vec![change("g/g1", 1), change("e/g1/1", 2)]);
    c.facts = vec![event_facts(&["fire"], &["p1"])];
    c.grids = vec![entry("g1", "one", "v1")];
    s.commit(c).expect("commit");
    assert_eq!(s.grid("g1").expect("registry"), Some(entry("g1", "one", "v1")));
    assert_eq!(s.grids_in_village("v1").expect("grids"), ["g1"]);
    assert_eq!(s.departments_of("e/g1/1").expect("departments"), ["fire"]);
    assert_eq!(s.docs_with_photo("p1").expect("photo"), ["e/g1/1"]);

    // A registered grid may be renamed but stays in its village, whatever a commit says; an event
    // dispatched again keeps every department it was ever dispatched to.
    let mut c = commit(0, vec![change("g/g1", 3), change("e/g1/1", 4)]);
    c.facts = vec![event_facts(&["fire", "water"], &["p1", "p2"])];
    c.grids = vec![entry("g1", "renamed", "v2"), entry("g3", "three", "v2")];
    s.commit(c).expect("commit");
    assert_eq!(s.grid("g1").expect("registry"), Some(entry("g1", "renamed", "v1")));
    assert_eq!(s.grids_in_village("v1").expect("grids"), ["g1"]);
    assert_eq!(s.grids_in_village("v2").expect("grids"), ["g3"]);
    assert_eq!(s.grids().expect("registry"), [entry("g1", "renamed", "v1"), entry("g3", "three", "v2")]);
    let mut departments = s.departments_of("e/g1/1").expect("departments");
    departments.sort();
    assert_eq!(departments, ["fire", "water"]);
    assert_eq!(s.docs_with_photo("p2").expect("photo"), ["e/g1/1"]);
    assert_eq!(s.grid("g9").expect("no such grid"), None);

    // The registry is the server's own record: it survives a restart as it stood.
    f.reopen();
    let s = f.storage();
    assert_eq!(s.grids().expect("registry"), [entry("g1", "renamed", "v1"), entry("g3", "three", "v2")]);
}

/// The change at an actor's sequence number is found per document, so that a second change there is
/// recognised before it is stored.
pub(crate) fn a_change_is_found_by_its_actor_and_sequence_number<F: Fixture>() {
    let mut f = F::new();
    register(f.storage(), 0);
    f.storage().commit(commit(0, vec![change("h/g1/1", 1), change("h/g1/1", 2), change("h/g1/2", 3)])).expect("commit");
    f.reopen();
    let (aa, bb): (&[u8], &[u8]) = (&[0xaa], &[0xbb]);
    let found = f
        .storage()
        .hashes_at(&[("h/g1/1", aa, 2), ("h/g1/1", aa, 3), ("h/g1/2", aa, 2), ("h/g1/1", bb, 1)])
        .expect("lookup");
    assert_eq!(found, [Some([2; 32]), None, None, None]);
}

pub(crate) fn the_access_logs_changes_are_read_alone_in_log_order<F: Fixture>() {
    let f = F::new();
    let s = f.storage();
    register(s, 0);
    let (log, other_log, journal) = ("a/g1/2026-12", "a/g2/2026-11", "j/g1/2026-12");
    s.commit(commit(0, vec![change(log, 1), change(journal, 2), change(other_log, 3)])).expect("first");
    s.commit(commit(0, vec![change("e/g1/1", 4), change(log, 5)])).expect("second");
    let read: Vec<(String, Vec<u8>)> =
        s.access_log().expect("the access log").into_iter().map(|c| (c.doc, c.bytes)).collect();
    let expected: Vec<(String, Vec<u8>)> =
        [(log, 1), (other_log, 3), (log, 5)].into_iter().map(|(d, n)| (d.to_string(), change(d, n).bytes)).collect();
    assert_eq!(read, expected);
}
