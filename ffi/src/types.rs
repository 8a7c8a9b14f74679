//! The core's custom types for times, dates and sets, made usable in this crate's own signatures.
//!
//! The core's records, enums, ids and the flat error derive the uniffi traits themselves (its
//! `uniffi` feature) and cross as they are. Its times, dates and sets are other crates' types
//! (chrono's, std's), so the core can implement uniffi's traits for them only under its own tag;
//! these lines lend those implementations to this crate, converting exactly as the core does.

use gridbook_core::{CareTags, IsoDate, Timestamp};

uniffi::use_remote_type!(gridbook_core::Timestamp);
uniffi::use_remote_type!(gridbook_core::IsoDate);
uniffi::use_remote_type!(gridbook_core::CareTags);
