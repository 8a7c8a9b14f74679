//! Sync: the exchange of changes between a device and the district's server (or another device),
//! batched across documents, idempotent and resumable.

mod access_log;
mod authorship;
mod erasure;
mod facts;
mod http;
mod identity;
mod peer;
mod proofs;
mod refusals;
mod rounds;
mod trust;
pub mod wire;

pub use access_log::{AccessLogRefusal, access_log_entries};
pub use erasure::ErasureReport;
pub use facts::{EventFacts, event_facts, grid_record, new_grid_document};
pub use facts::{operations, sealed_fields};
pub use http::{Remote, SyncOptions, SyncProgress, SyncReport};
pub use identity::Enrolment;
pub(crate) use identity::author as known_author;
pub use peer::PeerReport;
pub(crate) use proofs::signed_by_author;
pub use refusals::{RefusalReason, RefusedDoc};
pub use rounds::{Prepared, Round, SyncStatus};
pub use trust::{Roots, Trust};
pub use wire::Author;
