//! People entered twice. Two devices offline can each add the same person, and neither store can
//! know: once their changes have merged, the same ID number is on two present residents. The store
//! finds them here, for the secretary to resolve.

use serde::Serialize;

use crate::error::Result;
use crate::masking::mask_id_number;
use crate::model::Resident;
use crate::store::Store;

/// Present residents of active households who share one ID number.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DuplicateResidents {
    /// The number they share, masked: its first four and last four characters.
    pub id_number_masked: String,
    /// The residents who have it, in the order they were added, masked.
    pub residents: Vec<Resident>,
}

impl Store {
    /// Every ID number that more than one present resident of an active household has, with those
    /// residents: what a merge of two devices' work can leave behind, and what adding or editing a
    /// resident here refuses. A resident merged into another ([`Store::merge_residents`]) is
    /// resolved and no longer counts.
    ///
    /// # Errors
    /// [`Error::Storage`](crate::Error::Storage) if the store cannot be read;
    /// [`Error::Record`](crate::Error::Record) if a stored record does not read.
    pub fn resident_duplicates(&self) -> Result<Vec<DuplicateResidents>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "WITH merged AS (SELECT other FROM resident_merges WHERE root <> other)
                 SELECT r.id_number, r.record FROM residents r JOIN households h ON h.id = r.household_id
                 WHERE r.present AND h.active AND r.id NOT IN (SELECT other FROM merged) AND r.id_number IN (
                     SELECT r2.id_number FROM residents r2 JOIN households h2 ON h2.id = r2.household_id
                     WHERE r2.present AND h2.active AND r2.id_number IS NOT NULL
                       AND r2.id NOT IN (SELECT other FROM merged)
                     GROUP BY r2.id_number HAVING COUNT(*) > 1)
                 ORDER BY r.id_number, r.id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut groups: Vec<(String, DuplicateResidents)> = Vec::new();
            for row in rows {
                let (number, record) = row?;
                let resident = serde_json::from_str::<Resident>(&record)?.masked();
                match groups.last_mut() {
                    Some((last, group)) if *last == number => group.residents.push(resident),
                    _ => {
                        let id_number_masked = mask_id_number(&number);
                        groups.push((number, DuplicateResidents { id_number_masked, residents: vec![resident] }));
                    }
                }
            }
            Ok(groups.into_iter().map(|(_, group)| group).collect())
        })
    }
}
