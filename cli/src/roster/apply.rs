//! Writing one good row to the store. Everything a row needs is checked before its first write,
//! so a row the store refuses leaves nothing behind — no household created for it alone, nobody
//! moved out of their old one.

use gridbook_core::{GridId, HouseholdId, NewHousehold, NewResident, Relation, Resident, Store};

use super::columns::{Given, Row};
use super::known::Known;
use super::matching::{Match, edit_for};
use super::{ImportReport, Move};
use crate::error::CliError;

/// One import's writes: the store, what it holds, and the report so far.
pub struct Writer<'a> {
    pub store: &'a Store,
    pub known: Known,
    pub report: ImportReport,
}

impl Writer<'_> {
    /// Writes row `row_number`, matched as `found`, or says why not; `all` are the file's good rows.
    pub fn row(
        &mut self,
        row_number: usize,
        grid: GridId,
        row: &Row,
        found: Match,
        all: &[(usize, GridId, Row)],
    ) -> Result<(), CliError> {
        match found {
            Match::Unclear(reason) => Err(CliError::File(reason)),
            Match::Moved(from) => self.move_in(row_number, grid, row, all, &from),
            Match::Resident(r) => {
                match edit_for(&self.known, &r, row)? {
                    Some(edit) => {
                        self.store.edit_resident(r.id, edit)?;
                        self.report.residents_updated += 1;
                    }
                    None => self.report.residents_unchanged += 1,
                }
                Ok(())
            }
            Match::New => {
                let new = new_resident(row)?;
                self.store.check_new_resident(&new, None)?;
                let household = match self.known.household(grid, &row.address) {
                    Some(h) => h,
                    None => self.add_household(grid, row, all)?,
                };
                self.store.add_resident(household, new)?;
                self.report.residents_added += 1;
                Ok(())
            }
        }
    }

    /// Moves a person the row names by ID number from their household in the grid to the row's
    /// ([`Store::move_resident`]: a move-out there and a new resident here, as a secretary would
    /// record it by hand, so each household's history tells its side).
    fn move_in(
        &mut self,
        row_number: usize,
        grid: GridId,
        row: &Row,
        all: &[(usize, GridId, Row)],
        from: &Resident,
    ) -> Result<(), CliError> {
        let new = new_resident(row)?;
        self.store.check_new_resident(&new, Some(from.id))?;
        let household = match self.known.household(grid, &row.address) {
            Some(h) => h,
            None => self.add_household(grid, row, all)?,
        };
        self.store.move_resident(from.id, household, new)?;
        self.report.moves.push(Move {
            row: row_number,
            from: self.known.address(from.household_id).to_string(),
            to: row.address.clone(),
        });
        Ok(())
    }

    /// Creates the row's household. Its head is its 户主 column, else the name of its row related
    /// as head, else this row's name.
    fn add_household(
        &mut self,
        grid: GridId,
        row: &Row,
        all: &[(usize, GridId, Row)],
    ) -> Result<HouseholdId, CliError> {
        let same = || all.iter().filter(|(_, g, r)| *g == grid && r.address == row.address).map(|(_, _, r)| r);
        let head = row
            .head
            .clone()
            .or_else(|| same().find(|r| r.relation == Relation::Head).map(|r| r.name.clone()))
            .unwrap_or_else(|| row.name.clone());
        let phone = same().find(|r| r.name == head).and_then(|r| r.phone.as_ref()?.full().map(str::to_string));
        let new = NewHousehold {
            address: row.address.clone(),
            head_name: head,
            phone,
            care_tags: Default::default(),
            notes: row.notes.clone().unwrap_or_default(),
        };
        let h = self.store.add_household(grid, new)?;
        self.report.households_added += 1;
        self.known.add_household(&h);
        Ok(h.id)
    }
}

/// The resident a row describes, to be added: a masked number cannot be.
fn new_resident(row: &Row) -> Result<NewResident, CliError> {
    let full = |given: &Option<Given>, field| match given {
        Some(Given::Masked(_)) => Err(CliError::Masked { field }),
        Some(Given::Full(n)) => Ok(Some(n.clone())),
        None => Ok(None),
    };
    Ok(NewResident {
        name: row.name.clone(),
        id_number: full(&row.id_number, "ID number")?,
        gender: row.gender,
        birth_date: row.birth,
        relation: row.relation,
        phone: full(&row.phone, "phone")?,
        registration: row.registration,
        care_tags: row.care_tags.clone(),
    })
}
