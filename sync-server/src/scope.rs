//! What a device may read and write. Every document belongs to one grid (its name says which): a
//! grid member has its grids, a secretary the grids of its village, the centre everything, and a
//! department only the event documents dispatched to it — never the ledger behind them.

use std::collections::HashSet;

use gridbook_core::{DocId, DocKind};

use crate::error::ApiResult;
use crate::storage::{Device, ReadScope, Role, Storage};

/// A device's scope, resolved for one request.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Grids(HashSet<String>),
    Department(String),
}

impl Scope {
    pub fn of(storage: &dyn Storage, device: &Device) -> ApiResult<Self> {
        Ok(match device.role {
            Role::Centre => Scope::All,
            Role::GridMember => Scope::Grids(device.grids.iter().cloned().collect()),
            Role::Secretary => {
                let mut grids: HashSet<String> = device.grids.iter().cloned().collect();
                if let Some(village) = device.village.as_deref() {
                    grids.extend(storage.grids_in_village(village)?);
                }
                Scope::Grids(grids)
            }
            Role::Department => Scope::Department(device.department.clone().unwrap_or_default()),
        })
    }

    /// Whether the device may read, or write, document `doc`.
    pub fn covers(&self, storage: &dyn Storage, doc: &DocId) -> ApiResult<bool> {
        Ok(match self {
            Scope::All => true,
            Scope::Grids(grids) => grids.contains(&doc.grid.to_string()),
            Scope::Department(department) => {
                doc.kind == DocKind::Event
                    && !department.is_empty()
                    && storage.departments_of(&doc.to_string())?.iter().any(|d| d == department)
            }
        })
    }

    /// Adds a grid the request itself brings into scope (a secretary creating a grid of its village).
    pub fn admit(&mut self, grid: String) {
        if let Scope::Grids(grids) = self {
            grids.insert(grid);
        }
    }

    pub fn for_log(&self) -> ReadScope {
        match self {
            Scope::All => ReadScope::All,
            Scope::Grids(grids) => {
                let mut grids: Vec<String> = grids.iter().cloned().collect();
                grids.sort();
                ReadScope::Grids(grids)
            }
            Scope::Department(d) => ReadScope::Department(d.clone()),
        }
    }
}
