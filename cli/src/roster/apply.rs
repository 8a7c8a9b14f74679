//! Writing one good row to the store. Everything a row needs is checked before its first write,
//! so a row the store refuses leaves nothing behind — no household created for it alone, nobody
//! moved out of their old one.

use gridbook_core::{GridId, HouseholdId, NewHousehold, NewResident, Relation, Resident, Store};

use super::columns::Row;
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
                match edit_for(&r, row) {
                    Some(edit) => {
                        self.store.edit_resident(r.id, edit)?;
                        self.report.residents_updated += 1;
                    }
                    None => self.report.residents_unchanged += 1,
                }
                Ok(())
            }
            Match::New => {
                let new = new_resident(row);
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

    /// Moves a person the row names by ID number from their household in the grid to the row's:
    /// a move-out there and a new resident here, as a secretary would record it by hand, so each
    /// household's history tells its side.
    fn move_in(
        &mut self,
        row_number: usize,
        grid: GridId,
        row: &Row,
        all: &[(usize, GridId, Row)],
        from: &Resident,
    ) -> Result<(), CliError> {
        let new = NewResident { phone: row.phone.clone().or_else(|| from.phone.clone()), ..new_resident(row) };
        self.store.check_new_resident(&new, Some(from.id))?;
        let household = match self.known.household(grid, &row.address) {
            Some(h) => h,
            None => self.add_household(grid, row, all)?,
        };
        self.store.move_out_resident(from.id)?;
        self.store.add_resident(household, new)?;
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
        let phone = same().find(|r| r.name == head).and_then(|r| r.phone.clone());
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

fn new_resident(row: &Row) -> NewResident {
    NewResident {
        name: row.name.clone(),
        id_number: row.id_number.clone(),
        gender: row.gender,
        birth_date: row.birth,
        relation: row.relation,
        phone: row.phone.clone(),
        registration: row.registration,
        care_tags: row.care_tags.clone(),
    }
}
