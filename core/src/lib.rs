//! # gridbook-core
//!
//! The offline field store of Gridbook: the population ledger (grids, households, residents),
//! curtain-check routines and their daily observations, visits, and events with photos — kept on
//! the device in SQLite, with every edit an automerge change so that two people who edited the same
//! household offline both keep their edits when their stores merge.
//!
//! ```
//! use gridbook_core::{NewGrid, NewHousehold, Store, StoreConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path(), StoreConfig::new("王芳", "phone-1"))?;
//! let grid = store.create_grid(NewGrid { name: "第三网格".into(), village: "幸福村".into(), ..Default::default() })?;
//! let home = store.add_household(grid.id, NewHousehold {
//!     address: "3栋2单元501".into(),
//!     head_name: "李建国".into(),
//!     ..Default::default()
//! })?;
//! assert_eq!(store.households(grid.id, false, gridbook_core::Page::ALL)?, vec![home]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reads come from query tables and never load a document; writes go through one path (see
//! `store.rs`): validate, make one automerge change, and commit the change bytes with the updated
//! query rows in one SQLite transaction.
//!
//! With the `uniffi` feature, the records and enums derive the uniffi traits for gridbook-ffi.

// uniffi's derives and scaffolding generate `unsafe` FFI code; without the feature none is allowed.
#![cfg_attr(feature = "uniffi", allow(unsafe_code))]

mod access;
mod author;
mod checks;
mod clock;
mod datakey;
mod db;
#[cfg(feature = "demo")]
pub mod demo;
mod doc;
mod docstore;
mod duplicates;
mod erasure;
mod error;
mod events;
#[cfg(feature = "uniffi")]
mod flat_error;
mod history;
mod ids;
mod image_prep;
mod ledger;
mod lifecycle;
mod maintenance;
mod masking;
mod materialise;
mod merge;
mod model;
mod photos;
mod resident_merge;
mod search;
mod sort;
mod store;
pub mod sync;
#[cfg(feature = "uniffi")]
mod uniffi_types;
mod validate;
mod visits;
mod wipe;

pub use author::WorkingAs;
pub use clock::{Clock, FixedClock, ManualClock, SystemClock};
pub use db::Durability;
pub use db::cipher::StoreKey;

/// Encryption at rest for a SQLite database other than a store's (the sync server's): the key,
/// the keying of a connection, and the crash-safe re-encryption a store uses.
pub mod at_rest {
    pub use crate::db::cipher::{FileState, StoreKey, apply_key, drop_unfinished_export, file_state, reencrypt};
}
pub use duplicates::DuplicateResidents;
pub use erasure::{Erasure, ErasureState};
pub use error::{Error, ErrorKind, Result};
pub use history::HistoryEntry;
pub use ids::{DocId, DocKind, EntryId, EventId, GridId, HouseholdId, ResidentId, RoutineId, VisitId};
pub use image_prep::{PhotoOptions, prepare as prepare_photo};
pub use ledger::{NewGrid, Page};
pub use masking::{is_masked, mask_id_number, mask_phone};
pub use merge::{ChangeSet, DocChanges, Heads, MergeReport};
pub use model::*;
pub use photos::StoredPhoto;
pub use store::{Store, StoreConfig};
pub use validate::{IdNumberInfo, id_check_char, normalize_phone, parse_id_number, parse_id_number_on};

/// The IANA time zone type used in [`StoreConfig`].
pub use chrono_tz::Tz;

#[cfg(feature = "uniffi")]
pub use flat_error::GridbookError;
#[cfg(feature = "uniffi")]
pub use uniffi_types::{CareTags, Days, IsoDate, IsoTime, Timestamp};
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
