//! `roster import` and `roster export`: a secretary's roster as CSV or XLSX. An import keeps every
//! good row whatever the bad ones are, reports the bad ones by the row number the secretary sees in
//! Excel (the header is row 1), groups rows into households by address, and matches residents by ID
//! number (or by name within the household), so importing the same file twice changes nothing.

mod columns;
mod files;

use std::collections::HashMap;
use std::path::Path;

use gridbook_core::{GridId, HouseholdId, NewHousehold, NewResident, Page, Relation, Resident, ResidentEdit, Store};
use serde::Serialize;

pub use columns::{COLUMNS, Column};
use columns::{Header, Row, is_blank, parse_row};

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    pub reason: String,
}

/// Imports the roster in `file` into `grid` (or the grids its 网格 column names).
///
/// # Errors
/// [`CliError::File`] if the file cannot be read or has no usable header; problems with single rows
/// are in the report instead.
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
    for (i, cells) in sheet.iter().enumerate().skip(header_at + 1) {
        if is_blank(cells) {
            continue;
        }
        report.rows += 1;
        let row_number = i + 1;
        match parse_row(&header, cells).and_then(|row| Ok((grids.resolve(row.grid.as_deref())?, row))) {
            Ok((grid, row)) => good.push((row_number, grid, row)),
            Err(reason) => report.bad_rows.push(BadRow { row: row_number, reason }),
        }
    }
    let bar = progress.then(|| indicatif::ProgressBar::new(good.len() as u64));
    let mut ledger = Ledger::default();
    for (row_number, grid, row) in &good {
        if let Err(e) = ledger.apply(store, *grid, row, &good, &mut report) {
            report.bad_rows.push(BadRow { row: *row_number, reason: e.to_string() });
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report.bad_rows.sort_by_key(|b| b.row);
    Ok(report)
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

/// The households and residents already in the store, loaded per grid the first time it is used.
#[derive(Default)]
struct Ledger {
    loaded: Vec<GridId>,
    households: HashMap<(GridId, String), HouseholdId>,
    by_id_number: HashMap<String, Resident>,
    by_name: HashMap<(HouseholdId, String), Resident>,
}

impl Ledger {
    fn load(&mut self, store: &Store, grid: GridId) -> Result<(), CliError> {
        if self.loaded.contains(&grid) {
            return Ok(());
        }
        for h in store.households(grid, false, Page::ALL)? {
            for r in store.residents_of(h.id)? {
                self.remember(r);
            }
            self.households.insert((grid, h.address), h.id);
        }
        self.loaded.push(grid);
        Ok(())
    }

    fn remember(&mut self, r: Resident) {
        if let Some(id) = &r.id_number {
            self.by_id_number.insert(id.clone(), r.clone());
        }
        self.by_name.insert((r.household_id, r.name.clone()), r);
    }

    fn apply(
        &mut self,
        store: &Store,
        grid: GridId,
        row: &Row,
        all: &[(usize, GridId, Row)],
        report: &mut ImportReport,
    ) -> Result<(), CliError> {
        self.load(store, grid)?;
        let household = match self.households.get(&(grid, row.address.clone())) {
            Some(id) => *id,
            None => {
                // The household's head: its 户主 column, else its resident related as head, else this row.
                let same = || all.iter().filter(|(_, g, r)| *g == grid && r.address == row.address).map(|(_, _, r)| r);
                let head = row
                    .head
                    .clone()
                    .or_else(|| same().find(|r| r.relation == Relation::Head).map(|r| r.name.clone()))
                    .unwrap_or_else(|| row.name.clone());
                let phone = same().find(|r| r.name == head).and_then(|r| r.phone.clone());
                let new = NewHousehold {
                    address: row.address.clone(),
                    head_name: head,
                    phone,
                    care_tags: Default::default(),
                    notes: row.notes.clone().unwrap_or_default(),
                };
                let h = store.add_household(grid, new)?;
                report.households_added += 1;
                self.households.insert((grid, row.address.clone()), h.id);
                h.id
            }
        };
        let existing = row
            .id_number
            .as_ref()
            .and_then(|id| self.by_id_number.get(&id.to_ascii_uppercase()))
            .or_else(|| self.by_name.get(&(household, row.name.clone())))
            .cloned();
        match existing {
            Some(r) => match edit_for(&r, row) {
                Some(edit) => {
                    let updated = store.edit_resident(r.id, edit)?;
                    self.remember(updated);
                    report.residents_updated += 1;
                }
                None => report.residents_unchanged += 1,
            },
            None => {
                let new = NewResident {
                    name: row.name.clone(),
                    id_number: row.id_number.clone(),
                    gender: row.gender,
                    birth_date: row.birth,
                    relation: row.relation,
                    phone: row.phone.clone(),
                    registration: row.registration,
                    care_tags: row.care_tags.clone(),
                };
                let added = store.add_resident(household, new)?;
                self.remember(added);
                report.residents_added += 1;
            }
        }
        Ok(())
    }
}

/// The edit that brings `r` to what the row says, or `None` if it already does.
fn edit_for(r: &Resident, row: &Row) -> Option<ResidentEdit> {
    let mut edit = ResidentEdit::default();
    let differs = |a: &Option<String>, b: &Option<String>| b.is_some() && a != b;
    if r.name != row.name {
        edit.name = Some(row.name.clone());
    }
    if differs(&r.id_number, &row.id_number.as_ref().map(|s| s.to_ascii_uppercase())) {
        edit.id_number = Some(row.id_number.clone());
    }
    if row.gender.is_some_and(|g| g != r.gender) {
        edit.gender = row.gender;
    }
    if row.birth.is_some_and(|b| b != r.birth_date) {
        edit.birth_date = row.birth;
    }
    if row.relation != r.relation {
        edit.relation = Some(row.relation);
    }
    if differs(&r.phone, &row.phone) {
        edit.phone = Some(row.phone.clone());
    }
    if row.registration != r.registration {
        edit.registration = Some(row.registration);
    }
    if row.care_tags != r.care_tags {
        edit.care_tags = Some(row.care_tags.clone());
    }
    (edit != ResidentEdit::default()).then_some(edit)
}

/// Writes a grid's present residents in the import's columns; returns how many.
///
/// # Errors
/// [`CliError::File`] if the file cannot be written or its extension is not .csv or .xlsx.
pub fn export(store: &Store, file: &Path, grid: GridId) -> Result<usize, CliError> {
    let grid_name = store.grid(grid)?.name;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for h in store.households(grid, false, Page::ALL)? {
        for r in store.residents_of(h.id)? {
            if r.status != gridbook_core::ResidentStatus::Present {
                continue;
            }
            rows.push(vec![
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
            ]);
        }
    }
    let header: Vec<&str> = COLUMNS.iter().map(|(_, names)| names[0]).collect();
    files::write(file, &header, &rows)?;
    Ok(rows.len())
}
