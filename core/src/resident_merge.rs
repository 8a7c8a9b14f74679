//! One person entered twice, resolved: the secretary keeps one record and merges the other into it.
//!
//! A merge is one fact in one document: the merged resident's record, in its own household
//! document, names the resident kept (`merged_into`). Automerge has no transaction across
//! documents, so nothing else is moved or copied there: every store derives from these facts, in its
//! query tables, whom each merged resident finally stands for, and its reads send routines, visits
//! and history there. The facts converge like any field, and the derivation depends on nothing but
//! the set of facts, so every store ends with the same ledger whichever order documents arrive in.
//!
//! Merges can meet. Two merges of one record are two writes of one field, which automerge settles
//! the same way everywhere, so each record names at most one resident and the merges form chains
//! (X into Y while Y goes into Z) that end in a resident not merged, or in a cycle (X into Y on one
//! device while Y into X on another). A chain is followed to its end; in a cycle the resident with
//! the smallest id — the one entered first, ids being UUID v7 — is kept, as if its own merge had not
//! happened.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use crate::doc::{key, write_record};
use crate::error::{Error, Result};
use crate::ids::{DocId, ResidentId};
use crate::model::Resident;
use crate::store::Store;

impl Store {
    /// Merges `other` into `keep`: the same person, entered twice (usually on two devices offline,
    /// as [`Store::resident_duplicates`] finds). `other` is no longer listed or found, and its
    /// curtain-check routines, the visits to its household and its history show under `keep`
    /// ([`Store::routines_of`], [`Store::visits_of_resident`], [`Store::resident_history`]).
    ///
    /// What `keep` lacks is taken from `other`: its ID number (with the gender and birth date it
    /// gives) and its phone when `keep` has none, and its care tags are added to `keep`'s. Nothing
    /// `keep` has is overwritten; name, relation and registration stay `keep`'s. Edits made to
    /// `other` on another device meanwhile stay in `other`'s record and in the history.
    ///
    /// This makes two changes: the fields filled in on `keep`, then `other` marked as merged, which
    /// is the merge itself; each store converges on the merges it has, in any order. Returns `keep`
    /// as it now is, masked.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown resident; [`Error::InvalidInput`] when `keep` and `other`
    /// are one resident, when either was already merged, when they are in different grids, when
    /// both have ID numbers and they differ (two people, however alike), or when `other`'s ID number
    /// disagrees with `keep`'s gender or birth date; [`Error::Forbidden`] on a store enrolled as a
    /// grid member's or a department's (the secretary or the centre resolves duplicates).
    pub fn merge_residents(&self, keep: ResidentId, other: ResidentId) -> Result<Resident> {
        if keep == other {
            return Err(Error::invalid("residents", "a resident cannot be merged with itself"));
        }
        if let Some(enrolment) = self.enrolment()?
            && matches!(enrolment.certificate.role.as_str(), "grid-member" | "department")
        {
            return Err(Error::Forbidden(
                "only the village's secretary or the district centre merges residents; ask them to".into(),
            ));
        }
        let (kept, merged) = (self.resident_full(keep)?, self.resident_full(other)?);
        if kept.merged_into.is_some() {
            return Err(Error::invalid("resident to keep", "was merged into another resident; keep that one"));
        }
        if merged.merged_into.is_some() {
            return Err(Error::invalid("resident to merge", "was already merged into another resident"));
        }
        if kept.grid_id != merged.grid_id {
            return Err(Error::invalid("residents", "are in different grids; move one out instead"));
        }
        let filled = filled(kept.clone(), &merged)?;
        let kept = if filled == kept { kept } else { self.put_resident(&filled, "merge resident: fill in", false)? };
        let marked = Resident { merged_into: Some(keep), ..merged };
        let root_key = key::of(key::RESIDENT, other);
        let doc = DocId::household(marked.grid_id, marked.household_id);
        let seal = self.seal_for(other.0, &doc, false)?;
        self.edit_checked(
            &doc,
            "merge resident",
            |c| {
                // Another merge of either on this store, from another thread or process, may have
                // landed since they were read.
                let taken: bool = c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM resident_merges WHERE other IN (?1, ?2) AND root <> other)",
                    )?
                    .query_row(params![keep, other], |r| r.get(0))?;
                if taken { Err(Error::invalid("residents", "one of them was merged meanwhile")) } else { Ok(()) }
            },
            |tx| {
                write_record(tx, &root_key, &marked, seal.as_ref())?;
                Ok(((), vec![root_key.clone()]))
            },
        )?;
        Ok(kept.masked())
    }
}

/// `keep` with what it lacks taken from `other`, or why the two cannot be one person.
fn filled(mut keep: Resident, other: &Resident) -> Result<Resident> {
    match (&keep.id_number, &other.id_number) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid("residents", "their ID numbers differ: they are two people"));
        }
        (None, Some(number)) => {
            if (keep.gender, keep.birth_date) != (other.gender, other.birth_date) {
                return Err(Error::invalid(
                    "residents",
                    "the ID number of the one merged disagrees with the gender or birth date of the one kept",
                ));
            }
            keep.id_number = Some(number.clone());
        }
        _ => {}
    }
    if keep.phone.is_none() {
        keep.phone.clone_from(&other.phone);
    }
    keep.care_tags.extend(other.care_tags.iter().copied());
    Ok(keep)
}

/// Refuses to change a merged resident: its record only keeps the past, and a change belongs on
/// the resident it was merged into.
pub(crate) fn not_merged(r: &Resident) -> Result<()> {
    match r.merged_into {
        Some(_) => Err(Error::invalid("resident", "was merged into another resident; change that one")),
        None => Ok(()),
    }
}

/// Notes what a resident's record says about merging (merged into `keep`, or not merged) and, if
/// that changed, derives again whom every merged resident stands for: one fact can lengthen or
/// close another resident's chain, in another document.
pub(crate) fn note(conn: &Connection, other: ResidentId, keep: Option<ResidentId>) -> Result<()> {
    let before: Option<ResidentId> = conn
        .prepare_cached("SELECT keep FROM resident_merges WHERE other = ?1")?
        .query_row([other], |r| r.get(0))
        .optional()?;
    if before == keep {
        return Ok(());
    }
    match keep {
        Some(keep) => conn
            .prepare_cached("INSERT OR REPLACE INTO resident_merges (other, keep, root) VALUES (?1, ?2, ?2)")?
            .execute(params![other, keep])?,
        None => conn.prepare_cached("DELETE FROM resident_merges WHERE other = ?1")?.execute([other])?,
    };
    let edges: BTreeMap<ResidentId, ResidentId> = conn
        .prepare_cached("SELECT other, keep FROM resident_merges")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare_cached("UPDATE resident_merges SET root = ?2 WHERE other = ?1 AND root <> ?2")?;
    for (other, root) in roots(&edges) {
        update.execute(params![other, root])?;
    }
    Ok(())
}

/// Whom each merged resident stands for: its chain followed to a resident not merged, or, when the
/// chain runs into a cycle, to the cycle's smallest id, which stands for itself.
fn roots(edges: &BTreeMap<ResidentId, ResidentId>) -> BTreeMap<ResidentId, ResidentId> {
    let mut out = BTreeMap::new();
    for &start in edges.keys() {
        let mut path = vec![start];
        let root = loop {
            let at = path[path.len() - 1];
            let Some(&next) = edges.get(&at) else { break at };
            if let Some(i) = path.iter().position(|&p| p == next) {
                break path[i..].iter().copied().min().unwrap_or(next);
            }
            path.push(next);
        };
        out.insert(start, root);
    }
    out
}

/// Merged residents and whom they stand for (those a broken cycle keeps are not merged).
pub(crate) fn merged(conn: &Connection) -> Result<HashMap<ResidentId, ResidentId>> {
    Ok(conn
        .prepare_cached("SELECT other, root FROM resident_merges WHERE root <> other")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The residents merged into `keep`, in the order they were entered.
pub(crate) fn merged_into(conn: &Connection, keep: ResidentId) -> Result<Vec<ResidentId>> {
    Ok(conn
        .prepare_cached("SELECT other FROM resident_merges WHERE root = ?1 AND other <> ?1 ORDER BY other")?
        .query_map([keep], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Reads residents from `sql`, which selects each one's `record` and then whom it was merged into
/// (`NULL` if not merged): the record holds what its own document says, which a cycle broken
/// elsewhere may have overruled.
pub(crate) fn resident_rows(c: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Resident>> {
    let mut stmt = c.prepare_cached(sql)?;
    let found = stmt.query_map(params, |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<ResidentId>>(1)?)))?;
    found
        .map(|row| {
            let (record, root) = row?;
            Ok(Resident { merged_into: root, ..serde_json::from_str(&record)? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<ResidentId> {
        (0..n).map(|i| ResidentId(uuid::Uuid::from_u128(i))).collect()
    }

    #[test]
    fn a_chain_ends_at_the_resident_not_merged() {
        let r = ids(3);
        let edges = BTreeMap::from([(r[0], r[1]), (r[1], r[2])]);
        assert_eq!(roots(&edges), BTreeMap::from([(r[0], r[2]), (r[1], r[2])]));
    }

    #[test]
    fn a_cycle_keeps_its_smallest_id_and_whatever_leads_into_it_follows() {
        let r = ids(4);
        let edges = BTreeMap::from([(r[3], r[2]), (r[2], r[1]), (r[1], r[2]), (r[0], r[3])]);
        let roots = roots(&edges);
        // r0 → r3 → r2 ⇄ r1: the cycle {r1, r2} keeps r1.
        assert_eq!(roots, BTreeMap::from([(r[0], r[1]), (r[1], r[1]), (r[2], r[1]), (r[3], r[1])]));
    }
}
