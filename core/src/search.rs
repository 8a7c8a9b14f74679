//! Finding people in the ledger: by name, by a full or partial ID number or phone, by care tag.
//! The numbers are searched in full inside the store; every resident found comes masked.

use rusqlite::params;

use crate::db::query::rows;
use crate::error::Result;
use crate::ids::GridId;
use crate::model::{CareTag, Resident};
use crate::store::Store;
use crate::validate::{normalize_phone, parse_id_number_on};

impl Store {
    /// Finds residents by any part of the name, by ID number (whole or its start) or by phone (whole
    /// or its end). Present residents first; at most `limit`. Residents merged into others are left
    /// out. The numbers are searched in full, and the residents found come masked.
    pub fn search_residents(&self, text: &str, grid: Option<GridId>, limit: u32) -> Result<Vec<Resident>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = format!("%{}%", escape_like(text));
        let upper = escape_like(&text.to_ascii_uppercase());
        let found: Vec<Resident> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM residents
                 WHERE (?4 IS NULL OR grid_id = ?4)
                   AND id NOT IN (SELECT other FROM resident_merges WHERE root <> other)
                   AND (name LIKE ?1 ESCAPE '\\' OR id_number LIKE ?2 || '%' ESCAPE '\\'
                        OR phone LIKE '%' || ?5 ESCAPE '\\')
                 ORDER BY present DESC, name, id LIMIT ?3",
                params![pattern, upper, limit, grid, escape_like(text)],
            )
        })?;
        Ok(found.into_iter().map(Resident::masked).collect())
    }

    /// The present resident of an active household who has the full ID number `number` (in any
    /// form [`crate::parse_id_number`] reads), masked: a caller holding a number finds its person
    /// without the store handing out anyone's.
    ///
    /// # Errors
    /// [`Error::InvalidIdNumber`] if `number` is not a valid ID number.
    pub fn resident_with_id_number(&self, number: &str) -> Result<Option<Resident>> {
        let number = parse_id_number_on(number, self.today())?.normalized;
        let found: Vec<Resident> = self.read(|c| {
            rows(
                c,
                "SELECT r.record FROM residents r JOIN households h ON h.id = r.household_id
                 WHERE r.id_number = ?1 AND r.present AND h.active
                   AND r.id NOT IN (SELECT other FROM resident_merges WHERE root <> other)
                 ORDER BY r.id LIMIT 1",
                params![number],
            )
        })?;
        Ok(found.into_iter().next().map(Resident::masked))
    }

    /// The residents (merged ones left out) whose phone is the full number `phone`, masked.
    ///
    /// # Errors
    /// [`Error::InvalidPhone`] if `phone` is not a mainland mobile number.
    pub fn residents_with_phone(&self, phone: &str) -> Result<Vec<Resident>> {
        let phone = normalize_phone(phone)?;
        let found: Vec<Resident> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM residents WHERE phone = ?1
                   AND id NOT IN (SELECT other FROM resident_merges WHERE root <> other) ORDER BY id",
                params![phone],
            )
        })?;
        Ok(found.into_iter().map(Resident::masked).collect())
    }

    /// Present residents with a care tag, optionally only those at least `min_age` years old today
    /// (e.g. everyone living alone who is over 70), masked.
    pub fn residents_with_tag(
        &self,
        tag: CareTag,
        min_age: Option<u32>,
        grid: Option<GridId>,
    ) -> Result<Vec<Resident>> {
        let today = self.today();
        let found: Vec<Resident> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM residents WHERE present AND care_tags LIKE ?1 AND (?2 IS NULL OR grid_id = ?2)
                   AND id NOT IN (SELECT other FROM resident_merges WHERE root <> other)
                 ORDER BY name, id",
                params![format!("%,{tag},%"), grid],
            )
        })?;
        Ok(found
            .into_iter()
            .filter(|r| min_age.is_none_or(|age| r.age_on(today) >= age))
            .map(Resident::masked)
            .collect())
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
