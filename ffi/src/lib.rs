//! # gridbook-ffi
//!
//! Gridbook's core as Android and iOS see it, through uniffi (proc-macros, library mode). One object,
//! [`Gridbook`], opened on a directory, exposes what a field app needs: the ledger and its search,
//! curtain checks due today and recording them, visits and coverage, events with photos and their
//! steps, history, enrolment and sync with the district's server, and peer exchange with another phone over a
//! pipe the app provides. ID numbers and phones come masked (`3709**********1633`, `138****1111`) in
//! every record; `reveal_resident` and `reveal_household` return them in full for a reason the user
//! gives, and log it in the access log that syncs to the server.
//!
//! This crate converts and owns no behaviour, and nothing is defined twice. The core's records and
//! enums derive the uniffi traits themselves (gridbook-core's `uniffi` feature) and cross as they
//! are, with their own documentation; ids, times and dates cross as the core's custom types over
//! strings and integers. Only the options of [`Gridbook::open`], the edits, whose "clear this
//! field" cannot be an `Option<Option<_>>` in Kotlin or Swift, the curtain-check records (one
//! argument instead of four), and the sync and peer reports, whose counters are `usize`, have
//! shapes of their own here.
//!
//! Every call returns [`GridbookError`] (defined in the core, beside the conversions that can fail
//! with it) — Kotlin sees a typed exception, Swift a thrown error — and a panic inside the core is
//! caught and returned as [`GridbookError::Internal`].

mod access;
mod checks;
mod enrolment;
mod erasure;
mod error;
mod events;
mod gridbook;
mod inputs;
mod ledger;
mod peer;
mod sync;
mod types;

pub use enrolment::Enrolment;
pub use error::GridbookError;
pub use gridbook::{Gridbook, OpenOptions, new_store_key, normalize_phone, parse_id_number};
pub use inputs::{FollowUp, HouseholdEdit, ResidentEdit, Sighting};
pub use peer::{PeerPipe, PeerReport};
pub use sync::SyncReport;

uniffi::setup_scaffolding!();
