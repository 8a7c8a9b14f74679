//! The contract of photo bindings: a photo is bound to the events it was uploaded for, each once,
//! and a reference from another event binds nothing.

use super::{Fixture, commit, register};
use crate::storage::{DocFacts, Storage};

pub(crate) fn a_photo_is_bound_only_to_the_events_it_was_uploaded_for<F: Fixture>() {
    let mut f = F::new();
    let s = f.storage();
    register(s, 0);
    let mut refs = commit(0, Vec::new());
    refs.facts = ["e/g1/a", "e/g2/b"]
        .map(|doc| DocFacts { doc: doc.into(), photos: vec!["p1".into()], ..DocFacts::default() })
        .to_vec();
    s.commit(refs).expect("two events reference the photo");
    assert_eq!(s.photo_events("p1").expect("bindings"), Vec::<String>::new(), "a reference binds nothing");

    s.bind_photo("p1", "e/g1/a").expect("bind");
    s.bind_photo("p1", "e/g1/a").expect("bind again");
    s.bind_photo("p2", "e/g2/b").expect("another photo");
    assert_eq!(s.photo_events("p1").expect("bindings"), ["e/g1/a"]);

    s.bind_photo("p1", "e/g2/b").expect("a second event proves the photo");
    f.reopen();
    let s = f.storage();
    assert_eq!(s.photo_events("p1").expect("bindings"), ["e/g1/a", "e/g2/b"], "bindings survive a restart");
    assert_eq!(s.photo_events("p3").expect("bindings"), Vec::<String>::new());
    assert_eq!(s.docs_with_photo("p1").expect("references").len(), 2, "references are kept apart");
}
