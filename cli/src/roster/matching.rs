//! Which resident each row of a file is, decided for the whole file against the store as it was
//! before the import wrote anything. Deciding row by row as the rows are written would let an
//! early row take, by name, the resident that a later row of the same file created the last
//! time, so a second import of one file would not find what the first one left.

use std::cmp::Reverse;
use std::collections::HashSet;

use gridbook_core::{GridId, Resident, ResidentEdit, ResidentId};

use super::columns::{Given, Row};
use super::known::Known;
use crate::error::CliError;

/// Who a row is.
#[derive(Debug, Clone)]
pub enum Match {
    /// Nobody the store has: a new resident.
    New,
    /// This resident of the row's household.
    Resident(Box<Resident>),
    /// This resident of another household of the grid, found by ID number: the person moved.
    Moved(Box<Resident>),
    /// The row cannot say which of several residents it is.
    Unclear(String),
}

/// The match of each of `rows`, in their order.
///
/// An ID number names its person, whatever the name. A row without one, or with one the store does
/// not have, is a resident of its household with its name that no other row is; such a resident
/// never has a different ID number than the row. Where several fit, the rows that describe a
/// resident most completely take theirs first, so that a row saying less cannot take the resident
/// of a row saying more; a row that describes none of them and has more than one to choose from
/// is unclear.
pub fn match_rows(known: &Known, rows: &[(usize, GridId, Row)]) -> Vec<Match> {
    let mut found = vec![Match::New; rows.len()];
    let mut taken: HashSet<ResidentId> = HashSet::new();
    for (i, (_, grid, row)) in rows.iter().enumerate() {
        let full = row.id_number.as_ref().and_then(Given::full);
        let Some(r) = full.and_then(|n| known.with_id_number(n, *grid)) else { continue };
        taken.insert(r.id);
        found[i] = if known.household(*grid, &row.address) == Some(r.household_id) {
            Match::Resident(Box::new(r.clone()))
        } else {
            Match::Moved(Box::new(r.clone()))
        };
    }
    let open: Vec<usize> = (0..rows.len()).filter(|i| matches!(found[*i], Match::New)).collect();
    let fitting = |i: usize, taken: &HashSet<ResidentId>| candidates(known, &rows[i].1, &rows[i].2, taken);
    let mut pairs: Vec<(usize, usize, usize, &Resident)> = Vec::new();
    for &i in &open {
        for (k, r) in fitting(i, &taken).into_iter().enumerate() {
            let fit = fit(known, r, &rows[i].2);
            if fit > 0 {
                pairs.push((fit, i, k, r));
            }
        }
    }
    pairs.sort_by_key(|(fit, i, k, _)| (Reverse(*fit), *i, *k));
    let mut decided: HashSet<usize> = HashSet::new();
    for (_, i, _, r) in pairs {
        if !decided.contains(&i) && taken.insert(r.id) {
            decided.insert(i);
            found[i] = Match::Resident(Box::new(r.clone()));
        }
    }
    for i in open.into_iter().filter(|i| !decided.contains(i)) {
        match fitting(i, &taken).as_slice() {
            [] => {}
            [one] => {
                taken.insert(one.id);
                found[i] = Match::Resident(Box::new((*one).clone()));
            }
            several => {
                let row = &rows[i].2;
                found[i] = Match::Unclear(format!(
                    "{} residents of {} are named {}; give the ID number to say which this row is",
                    several.len(),
                    row.address,
                    row.name
                ));
            }
        }
    }
    found
}

/// The residents of `row`'s household whom it may be by name: present, not another row's, and
/// without an ID number if the row has one in full.
fn candidates<'k>(known: &'k Known, grid: &GridId, row: &Row, taken: &HashSet<ResidentId>) -> Vec<&'k Resident> {
    let Some(household) = known.household(*grid, &row.address) else { return Vec::new() };
    known
        .residents_in(household)
        .filter(|r| r.name == row.name && !taken.contains(&r.id))
        .filter(|r| !matches!(row.id_number, Some(Given::Full(_))) || r.id_number.is_none())
        .collect()
}

/// How completely `row` describes `r`: 0 if it says something else, else more for each field it
/// gives that agrees, and for a phone and ID number that are the same, both present or both not.
fn fit(known: &Known, r: &Resident, row: &Row) -> usize {
    if !matches!(edit_for(known, r, row), Ok(None)) {
        return 0;
    }
    let same = |stored: &Option<String>, given: &Option<Given>, has: &dyn Fn(&Given) -> bool| match given {
        None => stored.is_none(),
        Some(given) => has(given),
    };
    1 + usize::from(same(&r.phone, &row.phone, &|g| known.has_phone(r, g)))
        + usize::from(same(&r.id_number, &row.id_number, &|g| known.has_id_number(r, g)))
        + usize::from(row.gender.is_some())
        + usize::from(row.birth.is_some())
}

/// The edit that brings `r` (as the store lists it, masked) to what the row says, or `None` if it
/// already does. A blank cell says nothing: it never clears what the ledger has; nor does a masked
/// one that is the mask of what the ledger has.
///
/// # Errors
/// [`CliError::Masked`] for a masked ID number or phone that is not the mask of the ledger's.
pub fn edit_for(known: &Known, r: &Resident, row: &Row) -> Result<Option<ResidentEdit>, CliError> {
    let mut edit = ResidentEdit::default();
    if r.name != row.name {
        edit.name = Some(row.name.clone());
    }
    match &row.id_number {
        Some(given) if known.has_id_number(r, given) => {}
        Some(Given::Full(number)) => edit.id_number = Some(Some(number.clone())),
        Some(Given::Masked(_)) => return Err(CliError::Masked { field: "ID number" }),
        None => {}
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
    match &row.phone {
        Some(given) if known.has_phone(r, given) => {}
        Some(Given::Full(phone)) => edit.phone = Some(Some(phone.clone())),
        Some(Given::Masked(_)) => return Err(CliError::Masked { field: "phone" }),
        None => {}
    }
    if row.registration != r.registration {
        edit.registration = Some(row.registration);
    }
    if row.care_tags != r.care_tags {
        edit.care_tags = Some(row.care_tags.clone());
    }
    Ok((edit != ResidentEdit::default()).then_some(edit))
}
