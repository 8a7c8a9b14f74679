//! How results and errors are shown: aligned tables for people, the command line's own JSON shapes
//! for programs, and one error shape on stderr. Everything on stdout goes through [`stdout`].

pub mod json;
pub mod stdout;
mod table;

use std::io::Write;

use serde::Serialize;

use crate::error::CliError;

use json::JsonShape;
pub(crate) use stdout::outln;
pub use table::{Table, opt, tags, time};

pub fn report_error(e: &CliError, json: bool) {
    let mut err = std::io::stderr().lock();
    if json {
        let body = serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string() } });
        let _ = writeln!(err, "{body}");
    } else {
        let _ = writeln!(err, "error: {e}");
    }
}

/// Tells the person something the command did on their behalf, on stderr so that stdout stays the
/// command's result (its JSON under `--json`).
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {message}");
}

/// Prints `value` as JSON. Core records go through their [`JsonShape`] first (see [`show`]).
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::File(e.to_string()))?;
    stdout::line(text)
}

/// Prints `value` in its JSON shape under `--json`, else as the table `table` makes of it.
pub fn show<T: JsonShape + ?Sized>(
    json_mode: bool,
    value: &T,
    table: impl FnOnce(&T) -> Table,
) -> Result<(), CliError> {
    if json_mode { json(&value.json_shape()) } else { table(value).print() }
}
