//! Reading the query tables' JSON `record` columns: the few shapes of read every list and lookup
//! of the store API is made of, kept beside the connection rather than in one domain's module.

use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ids::GridId;

/// Reads the JSON `record` column of every row.
pub(crate) fn rows<T: DeserializeOwned>(c: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let records = stmt.query_map(params, |r| r.get::<_, String>(0))?;
    records.map(|json| Ok(serde_json::from_str(&json?)?)).collect()
}

/// The grid of the one row with `id` (`sql` selects its `grid_id`), or says it is unknown: all a
/// journal entry needs to find its document, without reading and parsing the whole record.
pub(crate) fn grid_of(
    c: &Connection,
    sql: &str,
    id: impl rusqlite::ToSql + std::fmt::Display,
    what: &'static str,
) -> Result<GridId> {
    c.prepare_cached(sql)?.query_row([&id], |r| r.get(0)).optional()?.ok_or_else(|| Error::not_found(what, id))
}

/// Reads the JSON `record` column of the one row with `id`, or says it is unknown.
pub(crate) fn one<T: DeserializeOwned>(
    c: &Connection,
    sql: &str,
    id: impl rusqlite::ToSql + std::fmt::Display,
    what: &'static str,
) -> Result<T> {
    let json: Option<String> = c.prepare_cached(sql)?.query_row([&id], |r| r.get(0)).optional()?;
    match json {
        Some(json) => Ok(serde_json::from_str(&json)?),
        None => Err(Error::not_found(what, id)),
    }
}
