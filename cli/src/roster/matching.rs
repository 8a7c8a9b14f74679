//! Which resident each row of a file is, decided for the whole file against the store as it was
//! before the import wrote anything. Deciding row by row as the rows are written would let an
//! early row take, by name, the resident that a later row of the same file created the last
//! time, so a second import of one file would not find what the first one left.

use std::cmp::Reverse;
use std::collections::HashSet;

use gridbook_core::{GridId, Resident, ResidentEdit, ResidentId};

use super::columns::Row;
use super::known::Known;

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
        let Some(r) = row.id_number.as_deref().and_then(|n| known.with_id_number(n, *grid)) else { continue };
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
            let fit = fit(r, &rows[i].2);
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
/// without an ID number if the row has one.
fn candidates<'k>(known: &'k Known, grid: &GridId, row: &Row, taken: &HashSet<ResidentId>) -> Vec<&'k Resident> {
    let Some(household) = known.household(*grid, &row.address) else { return Vec::new() };
    known
        .residents_in(household)
        .filter(|r| r.name == row.name && !taken.contains(&r.id))
        .filter(|r| row.id_number.is_none() || r.id_number.is_none())
        .collect()
}

/// How completely `row` describes `r`: 0 if it says something else, else more for each field it
/// gives that agrees, and for a phone and ID number that are the same, both present or both not.
fn fit(r: &Resident, row: &Row) -> usize {
    if edit_for(r, row).is_some() {
        return 0;
    }
    1 + usize::from(r.phone == row.phone)
        + usize::from(r.id_number == row.id_number)
        + usize::from(row.gender.is_some())
        + usize::from(row.birth.is_some())
}

/// The edit that brings `r` to what the row says, or `None` if it already does. A blank cell says
/// nothing: it never clears what the ledger has.
pub fn edit_for(r: &Resident, row: &Row) -> Option<ResidentEdit> {
    let mut edit = ResidentEdit::default();
    let differs = |a: &Option<String>, b: &Option<String>| b.is_some() && a != b;
    if r.name != row.name {
        edit.name = Some(row.name.clone());
    }
    if differs(&r.id_number, &row.id_number) {
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
