//! The shape of a history entry: who changed which field when.

use gridbook_core::HistoryEntry;
use serde::Serialize;

use super::{JsonShape, instant};

#[derive(Debug, Serialize)]
pub struct HistoryEntryJson {
    at: String,
    by: String,
    device: String,
    verified: bool,
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
            action: self.action.clone(),
            record: self.record.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
        }
    }
}
