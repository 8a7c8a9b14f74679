//! The shapes of a history entry (who changed which field when) and of an access-log entry (who
//! revealed which full numbers when, and why).

use gridbook_core::{AccessEntry, HistoryEntry};
use serde::Serialize;

use super::{JsonShape, instant};

#[derive(Debug, Serialize)]
pub struct HistoryEntryJson {
    at: String,
    by: String,
    device: String,
    verified: bool,
    signed: bool,
    action: String,
    record: String,
    field: String,
    value: Option<String>,
}

impl JsonShape for HistoryEntry {
    type Shape = HistoryEntryJson;
    fn json_shape(&self) -> HistoryEntryJson {
        HistoryEntryJson {
            at: instant(self.at),
            by: self.by.clone(),
            device: self.device.clone(),
            verified: self.verified,
            signed: self.signed,
            action: self.action.clone(),
            record: self.record.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AccessEntryJson {
    id: String,
    grid_id: String,
    at: String,
    by: String,
    device: String,
    verified: bool,
    action: String,
    records: Vec<String>,
    fields: Vec<String>,
    reason: String,
}

impl JsonShape for AccessEntry {
    type Shape = AccessEntryJson;
    fn json_shape(&self) -> AccessEntryJson {
        AccessEntryJson {
            id: self.id.to_string(),
            grid_id: self.grid_id.to_string(),
            at: instant(self.at),
            by: self.by.clone(),
            device: self.device.clone(),
            verified: self.verified,
            action: self.action.to_string(),
            records: self.records.clone(),
            fields: self.fields.clone(),
            reason: self.reason.clone(),
        }
    }
}
