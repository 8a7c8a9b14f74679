//! Sync: the exchange of changes between a device and the district's server (or another device),
//! batched across documents, idempotent and resumable.

mod facts;
mod rounds;
pub mod wire;

pub use facts::{EventFacts, event_facts, grid_village};
pub use rounds::{Prepared, Round, SyncStatus};
