//! How results and errors are shown: aligned tables for people (Chinese characters count double),
//! JSON for programs, and one error shape on stderr.

use std::io::Write;

use gridbook_core::Error;
use serde::Serialize;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] Error),
    /// The command line names something that is not there, or asks for something impossible.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    File(String),
    /// An import kept its good rows but not all rows were good.
    #[error("{bad} of {total} rows were not imported")]
    BadRows { bad: usize, total: usize },
}

impl CliError {
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.kind().as_str(),
            CliError::Usage(_) => "usage",
            CliError::File(_) => "file",
            CliError::BadRows { .. } => "bad_rows",
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadRows { .. } => 3,
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

pub fn report_error(e: &CliError, json: bool) {
    let mut err = std::io::stderr().lock();
    if json {
        let body = serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string() } });
        let _ = writeln!(err, "{body}");
    } else {
        let _ = writeln!(err, "error: {e}");
    }
}

/// Prints `value` as JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut value = serde_json::to_value(value).map_err(|e| CliError::File(e.to_string()))?;
    sets_as_arrays(&mut value);
    let text = serde_json::to_string_pretty(&value).map_err(|e| CliError::File(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// The store keeps a set as a map of members (so concurrent additions merge); scripts want a list.
fn sets_as_arrays(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    serde_json::Value::Object(set) if key == "care_tags" || key == "days" => {
                        *v = serde_json::Value::Array(set.keys().cloned().map(serde_json::Value::String).collect());
                    }
                    _ => sets_as_arrays(v),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sets_as_arrays),
        _ => {}
    }
}

/// Prints `value` as JSON under `--json`, else as the table `table` makes of it.
pub fn show<T: Serialize + ?Sized>(
    json_mode: bool,
    value: &T,
    table: impl FnOnce(&T) -> Table,
) -> Result<(), CliError> {
    if json_mode { json(value) } else { table(value).print() }
}

/// A table with a header row.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Self { header: header.to_vec(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// A two-column table of field names and values, for one record.
    pub fn record(fields: Vec<(&'static str, String)>) -> Self {
        let mut t = Self::new(&["field", "value"]);
        for (k, v) in fields {
            t.row(vec![k.to_string(), v]);
        }
        t
    }

    pub fn print(&self) -> Result<(), CliError> {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let mut out = std::io::stdout().lock();
        let line = |cells: Vec<&str>| -> String {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                s.push_str(cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(widths[i] - width(cell) + 2));
                }
            }
            s
        };
        let _ = writeln!(out, "{}", line(self.header.clone()));
        for row in &self.rows {
            let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
        }
        if self.rows.is_empty() {
            let _ = writeln!(out, "(none)");
        }
        Ok(())
    }
}

/// Display width in a terminal: CJK characters and full-width forms take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

pub fn time(t: chrono::DateTime<chrono::Utc>, tz: gridbook_core::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub fn tags<T: std::fmt::Display>(set: &std::collections::BTreeSet<T>) -> String {
    set.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}
