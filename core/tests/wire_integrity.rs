//! Integrity on the way: a real request — two stores' work on several documents, as a device sends
//! it (zstd) or a tool does (gzip) — with any one byte flipped is either refused before it is
//! decoded, or decodes to exactly the request that was sent. Without the checksum a flip inside a
//! change rebuilds into a valid change with another hash, which every store would keep.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::Fixture;
use gridbook_core::sync::wire::{Codec, Limits, SyncRequest, WireError, compress_as, decompress};
use gridbook_core::{ChangeSet, HouseholdEdit, NewEvent, NewVisit, Urgency, VisitKind};
use proptest::prelude::*;

/// Store A's day (a grid, households with residents and visits, an event), merged into store B,
/// which edits and visits on top: B's outbox holds both actors' changes on several documents.
fn real_request() -> SyncRequest {
    let a = Fixture::new("王芳");
    let grid = a.grid("第一网格");
    let mut homes = Vec::new();
    for i in 0..4 {
        let home = a.household(grid.id, &format!("一组{i}号"));
        // Four people: the store takes an ID number once.
        a.resident(home.id, "张德顺", &format!("1948030{}", i + 1), true);
        a.store.record_visit(home.id, visit("走访慰问")).unwrap();
        homes.push(home.id);
    }
    let event = NewEvent {
        category: "市政设施".into(),
        title: "路灯不亮".into(),
        description: "村口第三盏".into(),
        location: None,
        household_id: Some(homes[0]),
        urgency: Urgency::Routine,
    };
    a.store.report_event(grid.id, event).unwrap();
    let b = Fixture::new("李娜");
    let outbox = a.store.prepare_sync(usize::MAX).unwrap().request;
    b.store.apply_changes(&ChangeSet { docs: outbox.docs, keys: outbox.keys }).unwrap();
    for &home in &homes[1..] {
        let edit = HouseholdEdit { notes: Some("独居，每周探望".into()), ..HouseholdEdit::default() };
        b.store.edit_household(home, edit).unwrap();
        b.store.record_visit(home, visit("政策宣传")).unwrap();
    }
    let request = b.store.prepare_sync(usize::MAX).unwrap().request;
    assert!(request.docs.len() >= 5, "several documents");
    assert!(request.docs.iter().map(|d| d.changes.len()).sum::<usize>() >= 20, "many changes");
    request
}

fn visit(purpose: &str) -> NewVisit {
    NewVisit {
        kind: VisitKind::Home,
        at: None,
        purposes: vec![purpose.into()],
        notes: "身体尚可".into(),
        satisfaction: None,
    }
}

/// What the receiver makes of `body`: the request, or why it was refused.
fn receive(body: &[u8]) -> Result<SyncRequest, WireError> {
    let limits = Limits::default();
    SyncRequest::decode(&decompress(body, &limits)?, &limits)
}

/// Flips `body[at] ^= xor` and checks that the receiver refuses it or reads `sent` exactly.
fn refused_or_harmless(body: &[u8], at: usize, xor: u8, sent: &SyncRequest) -> Result<(), String> {
    let mut flipped = body.to_vec();
    flipped[at] ^= xor;
    match receive(&flipped) {
        Ok(got) if got != *sent => Err(format!("byte {at} of {} ^ {xor:#04x} was accepted, changed", body.len())),
        _ => Ok(()),
    }
}

#[test]
fn every_single_byte_flip_of_a_real_request_is_refused_or_harmless_in_either_codec() {
    let sent = real_request();
    let plain = sent.encode();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let body = compress_as(codec, &plain);
        assert_eq!(receive(&body).as_ref(), Ok(&sent), "{codec:?}: unflipped, it arrives");
        for at in 0..body.len() {
            for xor in [0x01, 0x80, 0xff] {
                refused_or_harmless(&body, at, xor, &sent).unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            }
        }
    }
}

#[test]
fn a_flip_in_the_content_is_reported_as_damage_in_transit() {
    let sent = real_request();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let mut body = compress_as(codec, &sent.encode());
        // The checksum itself sits in the last bytes of either frame (gzip: CRC-32, then length).
        let at = body.len() - if codec == Codec::Gzip { 8 } else { 1 };
        body[at] ^= 0x01;
        assert_eq!(receive(&body), Err(WireError::Damaged), "{codec:?}");
        assert!(WireError::Damaged.to_string().contains("damaged in transit"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Beyond the exhaustive sweep's three xor values: any value, anywhere, in a request of any size.
    #[test]
    fn any_flip_with_any_value_is_refused_or_harmless(
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        keep in 1usize..=64,
        gzip in any::<bool>(),
    ) {
        let mut sent = request();
        sent.docs.truncate(keep.min(sent.docs.len()));
        let codec = if gzip { Codec::Gzip } else { Codec::Zstd };
        let body = compress_as(codec, &sent.encode());
        prop_assert_eq!(refused_or_harmless(&body, at.index(body.len()), xor, &sent), Ok(()));
    }
}

/// [`real_request`], built once for the property test's cases.
fn request() -> SyncRequest {
    static REQUEST: std::sync::OnceLock<SyncRequest> = std::sync::OnceLock::new();
    REQUEST.get_or_init(real_request).clone()
}
