//! `roster import` and `roster export`: a secretary's roster as CSV or XLSX. An import keeps every
//! good row whatever the bad ones are, reports the bad ones by the row number the secretary sees in
//! Excel (the header is row 1), groups rows into households by address, and matches residents by ID
//! number (or, for a row without one, by name within the household), so importing the same file
//! twice changes nothing and a person's row at a new address moves them there.

mod apply;
mod columns;
mod files;
mod known;
mod matching;

use std::collections::HashMap;
use std::path::Path;

use gridbook_core::{GridId, Household, Page, Resident, Store};
use serde::Serialize;

use apply::Writer;
pub use columns::{COLUMNS, Column};
use columns::{Given, Header, Row, is_blank, parse_row};
use known::Known;

use crate::error::CliError;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    pub households_added: usize,
    pub residents_added: usize,
    pub residents_updated: usize,
    pub residents_unchanged: usize,
    pub bad_rows: Vec<BadRow>,
    /// What the import did to good rows that the secretary should know about.
    pub notes: Vec<Note>,
    /// People the file places at another address of the grid than the store had them, moved
    /// there (not counted in `residents_added`).
    pub moves: Vec<Move>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    pub reason: String,
}

/// Something an import changed in a good row as it read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    pub note: String,
}

/// A person moved by an import: out of the household at `from`, into the one at `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The address of the household the person was a resident of, now recorded as moved out of.
    pub from: String,
    /// The row's address, where the person is now a resident.
    pub to: String,
}

/// Imports the roster in `file` into `grid` (or the grids its 网格 column names).
///
/// # Errors
/// [`CliError::File`] if the file cannot be read or has no usable header; [`CliError::Core`] if the
/// store cannot be read. Problems with single rows are in the report instead.
pub fn import(store: &Store, file: &Path, grid: Option<GridId>, progress: bool) -> Result<ImportReport, CliError> {
    let sheet = files::read(file)?;
    let (header_at, header) = sheet
        .iter()
        .enumerate()
        .find(|(_, r)| !is_blank(r))
        .map(|(i, r)| Header::parse(r).map(|h| (i, h)))
        .transpose()
        .map_err(CliError::File)?
        .ok_or_else(|| CliError::File("the file is empty".into()))?;
    let mut report = ImportReport::default();
    let mut good: Vec<(usize, GridId, Row)> = Vec::new();
    let mut grids = Grids::new(store, grid)?;
    let today = store.today();
    for (i, cells) in sheet.iter().enumerate().skip(header_at + 1) {
        if is_blank(cells) {
            continue;
        }
        report.rows += 1;
        let row_number = i + 1;
        match parse_row(&header, cells, today).and_then(|row| Ok((grids.resolve(row.grid.as_deref())?, row))) {
            Ok((grid, row)) => good.push((row_number, grid, row)),
            Err(reason) => report.bad_rows.push(BadRow { row: row_number, reason }),
        }
    }
    refuse_shared_id_numbers(&mut good, &mut report.bad_rows);
    let mut known = Known::default();
    for (_, grid, _) in &good {
        known.load(store, *grid)?;
    }
    known.learn(store, &good)?;
    let found = matching::match_rows(&known, &good);
    let bar = progress.then(|| indicatif::ProgressBar::new(good.len() as u64));
    let mut writer = Writer { store, known, report };
    for ((row_number, grid, row), found) in good.iter().zip(found) {
        match writer.row(*row_number, *grid, row, found, &good) {
            Err(e) => writer.report.bad_rows.push(BadRow { row: *row_number, reason: e.to_string() }),
            Ok(()) if row.id_converted => writer
                .report
                .notes
                .push(Note { row: *row_number, note: "converted a 15-digit ID number to 18 digits".into() }),
            Ok(()) => {}
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = writer.report;
    report.bad_rows.sort_by_key(|b| b.row);
    Ok(report)
}

/// Takes out of `good` every row whose ID number another row also has, as bad rows naming each
/// other. One of them may be a typing mistake, and which is not for the import to guess: taking
/// the first would file the second person's row under the first person.
fn refuse_shared_id_numbers(good: &mut Vec<(usize, GridId, Row)>, bad: &mut Vec<BadRow>) {
    let mut rows_with: HashMap<String, Vec<usize>> = HashMap::new();
    for (row_number, _, row) in good.iter() {
        if let Some(number) = row.id_number.as_ref().and_then(Given::full) {
            rows_with.entry(number.to_string()).or_default().push(*row_number);
        }
    }
    good.retain(|(row_number, _, row)| {
        let full = row.id_number.as_ref().and_then(Given::full);
        let Some(rows) = full.and_then(|n| rows_with.get(n)).filter(|rows| rows.len() > 1) else {
            return true;
        };
        let others: Vec<String> = rows.iter().filter(|r| *r != row_number).map(usize::to_string).collect();
        let reason = match others.as_slice() {
            [one] => format!("row {one} has the same ID number; a person is entered once, so neither row is imported"),
            _ => format!(
                "rows {} have the same ID number; a person is entered once, so none of these rows is imported",
                others.join(", ")
            ),
        };
        bad.push(BadRow { row: *row_number, reason });
        false
    });
}

/// Grids named in the file, resolved once each.
struct Grids<'a> {
    store: &'a Store,
    default: Option<GridId>,
    by_name: HashMap<String, GridId>,
}

impl<'a> Grids<'a> {
    fn new(store: &'a Store, default: Option<GridId>) -> Result<Self, CliError> {
        let by_name = store.grids()?.into_iter().map(|g| (g.name, g.id)).collect();
        Ok(Self { store, default, by_name })
    }

    fn resolve(&mut self, named: Option<&str>) -> Result<GridId, String> {
        match named {
            None => self.default.ok_or_else(|| "no grid: give --grid or fill the 网格 column".to_string()),
            Some(name) => match name.parse::<GridId>() {
                Ok(id) => self.store.grid(id).map(|g| g.id).map_err(|e| e.to_string()),
                Err(_) => self.by_name.get(name).copied().ok_or_else(|| format!("no grid is named {name:?}")),
            },
        }
    }
}

/// Writes a grid's present residents in the import's columns; returns how many. ID numbers and
/// phones are masked, unless `reveal` gives the reason for writing them in full: the export is
/// then a reveal, logged in the grid's access log ([`Store::reveal_roster`]). A masked export
/// imported again changes nothing.
///
/// # Errors
/// [`CliError::File`] if the file cannot be written or its extension is not .csv or .xlsx;
/// [`CliError::Core`] for an empty reason, or if the store cannot be read or the reveal logged.
pub fn export(store: &Store, file: &Path, grid: GridId, reveal: Option<&str>) -> Result<usize, CliError> {
    let grid_name = store.grid(grid)?.name;
    let households = store.households(grid, false, Page::ALL)?;
    let mut people: Vec<(&Household, Resident)> = Vec::new();
    match reveal {
        Some(reason) => {
            let by_id: HashMap<_, _> = households.iter().map(|h| (h.id, h)).collect();
            for r in store.reveal_roster(grid, reason)? {
                if let Some(h) = by_id.get(&r.household_id) {
                    people.push((h, r));
                }
            }
        }
        None => {
            for h in &households {
                for r in store.residents_of(h.id)? {
                    if r.status == gridbook_core::ResidentStatus::Present {
                        people.push((h, r));
                    }
                }
            }
        }
    }
    let rows: Vec<Vec<String>> = people
        .into_iter()
        .map(|(h, r)| {
            vec![
                grid_name.clone(),
                h.address.clone(),
                h.head_name.clone(),
                r.name.clone(),
                r.id_number.clone().unwrap_or_default(),
                if r.gender == gridbook_core::Gender::Male { "男" } else { "女" }.into(),
                r.birth_date.format("%Y-%m-%d").to_string(),
                columns::relation_text(r.relation).into(),
                r.phone.clone().unwrap_or_default(),
                columns::registration_text(r.registration).into(),
                columns::care_tags_text(&r.care_tags),
                h.notes.clone(),
            ]
        })
        .collect();
    let header: Vec<&str> = COLUMNS.iter().map(|(_, names)| names[0]).collect();
    files::write(file, &header, &rows)?;
    Ok(rows.len())
}
