//! The shapes of sync: what a sync did, and how far behind the server this store is.

use gridbook_core::sync::{RefusedDoc, SyncReport, SyncStatus};
use serde::Serialize;

use super::{JsonShape, instant};

#[derive(Debug, Serialize)]
pub struct SyncReportJson {
    round_trips: usize,
    changes_sent: usize,
    changes_received: usize,
    docs_changed: usize,
    bytes_up: u64,
    bytes_down: u64,
    photos_uploaded: usize,
    photo_bytes_uploaded: u64,
    /// Residents and households erased on this store.
    erased: u64,
    /// Unsent changes to erased households that went with them.
    discarded_changes: u64,
    /// The store had missed erasures: it dropped its data keys and asked the server for each again.
    resynced: bool,
    incomplete: bool,
}

impl JsonShape for SyncReport {
    type Shape = SyncReportJson;
    fn json_shape(&self) -> SyncReportJson {
        SyncReportJson {
            round_trips: self.round_trips,
            changes_sent: self.changes_sent,
            changes_received: self.changes_received,
            docs_changed: self.docs_changed,
            bytes_up: self.bytes_up,
            bytes_down: self.bytes_down,
            photos_uploaded: self.photos_uploaded,
            photo_bytes_uploaded: self.photo_bytes_uploaded,
            erased: self.erasure.erased,
            discarded_changes: self.erasure.discarded_changes,
            resynced: self.erasure.resynced,
            incomplete: self.incomplete,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SyncStatusJson {
    last_success_at: Option<String>,
    pending_changes: u64,
    pending_photo_bytes: u64,
    last_error: Option<String>,
    refused: Vec<RefusedDocJson>,
}

#[derive(Debug, Serialize)]
pub struct RefusedDocJson {
    doc: String,
    reason: &'static str,
    first_refused_at: String,
    last_refused_at: String,
}

impl JsonShape for RefusedDoc {
    type Shape = RefusedDocJson;
    fn json_shape(&self) -> RefusedDocJson {
        RefusedDocJson {
            doc: self.doc.clone(),
            reason: self.reason.as_str(),
            first_refused_at: instant(self.first_refused_at),
            last_refused_at: instant(self.last_refused_at),
        }
    }
}

impl JsonShape for SyncStatus {
    type Shape = SyncStatusJson;
    fn json_shape(&self) -> SyncStatusJson {
        SyncStatusJson {
            last_success_at: self.last_success_at.map(instant),
            pending_changes: self.pending_changes,
            pending_photo_bytes: self.pending_photo_bytes,
            last_error: self.last_error.clone(),
            refused: self.refused.iter().map(JsonShape::json_shape).collect(),
        }
    }
}
