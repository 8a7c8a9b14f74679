//! The JSON a script reads under `--json`: the command line's own shapes, converted from the
//! core's records, so that a change to how the store keeps a record never changes a script's input.
//! Every shape is documented in `cli/README.md`; times are RFC 3339 UTC with milliseconds, days
//! `YYYY-MM-DD`, ids text, enumerations their snake_case names, sets arrays.

mod erasure;
mod events;
mod history;
mod journal;
mod ledger;
mod names;
mod sync;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// A core record that has a JSON shape of the command line's own.
pub trait JsonShape {
    type Shape: Serialize;
    fn json_shape(&self) -> Self::Shape;
}

impl<T: JsonShape> JsonShape for [T] {
    type Shape = Vec<T::Shape>;
    fn json_shape(&self) -> Self::Shape {
        self.iter().map(JsonShape::json_shape).collect()
    }
}

impl<T: JsonShape> JsonShape for Vec<T> {
    type Shape = Vec<T::Shape>;
    fn json_shape(&self) -> Self::Shape {
        self.as_slice().json_shape()
    }
}

/// A moment as RFC 3339 in UTC with milliseconds, e.g. `2026-11-10T07:30:00.000Z`.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A local day as `YYYY-MM-DD`.
fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
