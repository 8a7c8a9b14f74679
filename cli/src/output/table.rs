//! Tables for people: aligned columns where Chinese characters count double, and the cell
//! formats the tables share.

use std::io::Write;

use super::stdout;
use crate::error::CliError;

/// A table with a header row.
#[derive(Debug)]
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
        stdout::write(|out| {
            writeln!(out, "{}", line(self.header.clone()))?;
            for row in &self.rows {
                writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
            }
            if self.rows.is_empty() {
                writeln!(out, "(none)")?;
            }
            Ok(())
        })
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

/// A moment in the district's time zone, to the minute.
pub fn time(t: chrono::DateTime<chrono::Utc>, tz: gridbook_core::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub fn tags<T: std::fmt::Display>(set: &std::collections::BTreeSet<T>) -> String {
    set.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}
