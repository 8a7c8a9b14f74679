//! The shape of an erasure: its record's id and kind, where it stands, and why it was refused.

use gridbook_core::{Erasure, ErasureState};
use serde::Serialize;

use super::JsonShape;

#[derive(Debug, Serialize)]
pub struct ErasureJson {
    id: String,
    kind: &'static str,
    /// `not_requested`, `requested`, `refused` or `erased`.
    state: &'static str,
    /// Why the server refused it, for `refused`.
    refused: Option<&'static str>,
}

impl JsonShape for Erasure {
    type Shape = ErasureJson;
    fn json_shape(&self) -> ErasureJson {
        let (state, refused) = match self.state {
            ErasureState::NotRequested => ("not_requested", None),
            ErasureState::Requested => ("requested", None),
            ErasureState::Refused { reason } => ("refused", Some(reason.as_str())),
            ErasureState::Erased => ("erased", None),
        };
        ErasureJson { id: self.id.to_string(), kind: self.kind, state, refused }
    }
}
