//! Typed identifiers (UUID v7, so they sort by creation time) and the names of automerge documents.
//!
//! Every document belongs to exactly one grid, and the grid is part of the document's name, so scope
//! can be decided from the name alone without trusting a document's contents.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub(crate) fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                uuid::Uuid::column_result(v).map(Self)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                uuid::Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| Error::invalid($what, "not a valid id"))
            }
        }
    };
}

id_type!(/// A grid: a few buildings or a group of houses with one grid member.
    GridId, "grid id");
id_type!(/// A household in the population ledger.
    HouseholdId, "household id");
id_type!(/// A resident of a household.
    ResidentId, "resident id");
id_type!(/// A curtain-check routine of one resident.
    RoutineId, "routine id");
id_type!(/// A recorded visit.
    VisitId, "visit id");
id_type!(/// A reported event.
    EventId, "event id");
id_type!(/// One record inside a document that only ever grows (a sighting, a step, a photo).
    EntryId, "entry id");

/// The name of one automerge document. Its grid is part of the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId {
    pub kind: DocKind,
    pub grid: GridId,
    /// The household or event id, or the month (`YYYY-MM`) of a journal or an access log; empty
    /// for a grid.
    pub part: String,
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    /// The grid's own record.
    Grid,
    /// A household with its residents and their curtain-check routines.
    Household,
    /// A month of a grid's curtain-check observations and visits.
    Journal,
    /// An event with its steps and photos.
    Event,
    /// A month of a grid's access log: who revealed which full ID numbers and phones, and why.
    /// Entries are only ever added; the server refuses a change that removes or replaces one.
    Access,
}

impl DocId {
    pub(crate) fn grid(grid: GridId) -> Self {
        Self { kind: DocKind::Grid, grid, part: String::new() }
    }
    pub(crate) fn household(grid: GridId, id: HouseholdId) -> Self {
        Self { kind: DocKind::Household, grid, part: id.to_string() }
    }
    pub(crate) fn journal(grid: GridId, day: chrono::NaiveDate) -> Self {
        Self { kind: DocKind::Journal, grid, part: day.format("%Y-%m").to_string() }
    }
    pub(crate) fn event(grid: GridId, id: EventId) -> Self {
        Self { kind: DocKind::Event, grid, part: id.to_string() }
    }
    pub(crate) fn access(grid: GridId, day: chrono::NaiveDate) -> Self {
        Self { kind: DocKind::Access, grid, part: day.format("%Y-%m").to_string() }
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.kind {
            DocKind::Grid => return write!(f, "g/{}", self.grid),
            DocKind::Household => "h",
            DocKind::Journal => "j",
            DocKind::Event => "e",
            DocKind::Access => "a",
        };
        write!(f, "{tag}/{}/{}", self.grid, self.part)
    }
}

impl FromStr for DocId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidChanges("malformed document name".into());
        let mut parts = s.splitn(3, '/');
        let tag = parts.next().ok_or_else(bad)?;
        let grid: GridId = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let part = parts.next().unwrap_or_default().to_string();
        let kind = match tag {
            "g" if part.is_empty() => DocKind::Grid,
            "h" => DocKind::Household,
            "j" => DocKind::Journal,
            "e" => DocKind::Event,
            "a" => DocKind::Access,
            _ => return Err(bad()),
        };
        let valid = match kind {
            DocKind::Grid => true,
            DocKind::Household | DocKind::Event => uuid::Uuid::parse_str(&part).is_ok(),
            DocKind::Journal | DocKind::Access => {
                chrono::NaiveDate::parse_from_str(&format!("{part}-01"), "%Y-%m-%d").is_ok()
            }
        };
        if !valid {
            return Err(bad());
        }
        Ok(Self { kind, grid, part })
    }
}
