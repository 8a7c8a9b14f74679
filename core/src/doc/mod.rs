//! Automerge documents: how records are laid out in them and read back.
//!
//! Every document's root holds records at keys `"{collection}:{id}"` (or a singleton such as
//! `"household"`). A record is a map created once, by one writer, at a fresh key, so no two devices
//! ever create an object at the same key: automerge would keep only one of two such objects, and
//! the other's fields would be hidden. Inside a record, scalar fields merge field by field and sets
//! are maps of `member → true`.

mod record;
pub(crate) mod sealed;

pub(crate) use record::{read_opened, read_record, scalar_to_json, write_entry, write_record};
pub(crate) use sealed::Seal;

/// Record keys of the root map.
pub(crate) mod key {
    pub const GRID: &str = "grid";
    pub const HOUSEHOLD: &str = "household";
    pub const EVENT: &str = "event";
    pub const RESIDENT: &str = "resident";
    pub const ROUTINE: &str = "routine";
    pub const OBSERVATION: &str = "check";
    pub const VISIT: &str = "visit";
    pub const STEP: &str = "step";
    pub const PHOTO: &str = "photo";
    pub const ACCESS: &str = "access";

    /// The root key of a record in a collection.
    pub fn of(collection: &str, id: impl std::fmt::Display) -> String {
        format!("{collection}:{id}")
    }

    /// Splits a root key into its collection and id (`("household", "")` for a singleton).
    pub fn split(root_key: &str) -> (&str, &str) {
        root_key.split_once(':').unwrap_or((root_key, ""))
    }
}
