//! Reading and writing roster files. CSV is read as UTF-8 (a byte-order mark, as Excel writes one,
//! is skipped) and written with one, so Excel shows the Chinese correctly; XLSX (and XLS, ODS) is
//! read with calamine and written with rust_xlsxwriter, ID numbers and dates as text so Excel cannot
//! mangle them.

use std::path::Path;

use calamine::{Data, Reader};

use super::columns::Cell;
use crate::error::CliError;

fn extension(file: &Path) -> String {
    file.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase()
}

/// The rows of the file's first sheet, with blank rows kept so that indices are row numbers - 1.
pub fn read(file: &Path) -> Result<Vec<Vec<Cell>>, CliError> {
    let cant = |e: &dyn std::fmt::Display| CliError::File(format!("cannot read {}: {e}", file.display()));
    match extension(file).as_str() {
        "csv" | "txt" => {
            let bytes = std::fs::read(file).map_err(|e| cant(&e))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| CliError::File("the CSV is not UTF-8; save it from Excel as \"CSV UTF-8\"".into()))?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
            reader
                .records()
                .map(|r| {
                    r.map(|rec| {
                        rec.iter()
                            .map(|c| if c.trim().is_empty() { Cell::Empty } else { Cell::Text(c.into()) })
                            .collect()
                    })
                    .map_err(|e| cant(&e))
                })
                .collect()
        }
        "xlsx" | "xlsm" | "xls" | "ods" => {
            let mut book = calamine::open_workbook_auto(file).map_err(|e| cant(&e))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| CliError::File("the workbook has no sheet".into()))?
                .map_err(|e| cant(&e))?;
            let (first_row, first_col) = range.start().unwrap_or((0, 0));
            let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); first_row as usize];
            for row in range.rows() {
                let mut cells = vec![Cell::Empty; first_col as usize];
                cells.extend(row.iter().map(cell));
                rows.push(cells);
            }
            Ok(rows)
        }
        other => Err(CliError::File(format!("cannot import a .{other} file; use .csv or .xlsx"))),
    }
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => Cell::Date(d.as_f64()),
    }
}

/// Writes a header and rows, all as text.
pub fn write(file: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let cant = |e: &dyn std::fmt::Display| CliError::File(format!("cannot write {}: {e}", file.display()));
    match extension(file).as_str() {
        "csv" => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(header).map_err(|e| cant(&e))?;
                for row in rows {
                    w.write_record(row).map_err(|e| cant(&e))?;
                }
                w.flush().map_err(|e| cant(&e))?;
            }
            std::fs::write(file, out).map_err(|e| cant(&e))
        }
        "xlsx" => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let text = rust_xlsxwriter::Format::new().set_num_format("@");
            for (c, h) in header.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).map_err(|e| cant(&e))?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    sheet.write_string_with_format(r as u32 + 1, c as u16, value, &text).map_err(|e| cant(&e))?;
                }
            }
            book.save(file).map_err(|e| cant(&e))
        }
        other => Err(CliError::File(format!("cannot export to a .{other} file; use .csv or .xlsx"))),
    }
}
