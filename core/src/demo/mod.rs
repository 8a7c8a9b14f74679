//! A realistic village, for trying Gridbook out and for benchmarks: Chinese names and addresses,
//! ID numbers that validate, elderly people living alone with curtain-check routines and their
//! history (a few missed mornings, followed up), visits of every kind, and events in every state,
//! some overdue. Deterministic from a seed. It walks a manual clock through the days, so that every
//! record carries the time it would have had.
//!
//! Behind the `demo` feature: the phone library never carries it. It uses the core's public API
//! only, as any other tool would.

mod names;
mod village;

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::{Durability, GridId, ManualClock, Result, Store, StoreConfig};

/// How big a village to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageSpec {
    pub grids: usize,
    pub households: usize,
    pub residents: usize,
    pub routines: usize,
    /// Days of curtain-check history, ending today.
    pub days_of_checks: u32,
    pub visits: usize,
    pub events: usize,
    pub seed: u64,
}

impl VillageSpec {
    /// Enough to try every command.
    pub fn small() -> Self {
        Self {
            grids: 2,
            households: 60,
            residents: 180,
            routines: 8,
            days_of_checks: 14,
            visits: 120,
            events: 12,
            seed: 7,
        }
    }

    /// The benchmark fixture: 1,000 households, 3,000 residents, 30 routines with a year of daily
    /// checks, 12,000 visits, 500 events.
    pub fn bench() -> Self {
        Self {
            grids: 2,
            households: 1_000,
            residents: 3_000,
            routines: 30,
            days_of_checks: 365,
            visits: 12_000,
            events: 500,
            seed: 2026,
        }
    }
}

/// What was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VillageSummary {
    pub grids: Vec<GridId>,
    pub households: usize,
    pub residents: usize,
    pub routines: usize,
    pub checks: usize,
    pub visits: usize,
    pub events: usize,
}

/// Fills an open store with a village; the store's clock says what "now" is, and records before now
/// are dated as they would have been. Meant for an empty store: grids are added beside any there are.
/// Nothing else should write to the store meanwhile: its writes would be dated in the village's past.
///
/// # Errors
/// Whatever writing the store returns.
pub fn fill(store: &Store, spec: &VillageSpec) -> Result<VillageSummary> {
    let config = store.config();
    let now = config.clock.now();
    let clock = ManualClock::new(now);
    let summary =
        store.with_clock(Arc::new(clock.clone()), || village::make(store, clock, spec, now, config.timezone))?;
    // What a year in the field leaves: the fold at idle would have run between the taps, and a fill
    // never pauses for it.
    store.fold_pending()?;
    Ok(summary)
}

/// Makes a village in the store at `dir` (opened with `config`, whose clock sets "now"), and closes
/// it. Records before now are dated as they would have been. No other handle on `dir` may write
/// meanwhile (see [`fill`] for a store that is open).
///
/// # Errors
/// Whatever opening or writing the store returns.
pub fn build(dir: &Path, config: StoreConfig, spec: &VillageSpec) -> Result<VillageSummary> {
    // Synthetic data can be made again, so commits need not wait for the disk; the checkpoint at the
    // end syncs everything once.
    let store = Store::open(dir, StoreConfig { durability: Durability::Normal, ..config })?;
    fill(&store, spec)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::{FixedClock, NewVisit, Page, VisitKind, parse_id_number};

    #[test]
    fn a_small_village_has_what_it_promises_and_its_id_numbers_validate() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap();
        let mut config = StoreConfig::new("演示", "demo");
        config.clock = Arc::new(FixedClock(now));
        let store = Store::open(dir.path(), config.clone()).unwrap();
        let spec = VillageSpec::small();
        let summary = fill(&store, &spec).unwrap();
        assert_eq!((summary.households, summary.residents, summary.visits), (60, 180, 120));
        assert_eq!((summary.grids.len(), summary.routines, summary.events), (2, spec.routines, spec.events));
        assert_eq!(summary.checks, spec.routines * spec.days_of_checks as usize);

        let (mut households, mut residents, mut visits) = (0, 0, 0);
        for grid in &summary.grids {
            for home in store.households(*grid, false, Page::ALL).unwrap() {
                households += 1;
                visits += store.visits_of(home.id).unwrap().len();
                for r in store.residents_of(home.id).unwrap() {
                    let full = store.reveal_resident(r.id, "checking the demo's numbers").unwrap();
                    let info = parse_id_number(full.id_number.as_deref().unwrap()).unwrap();
                    assert_eq!((info.birth_date, info.gender), (r.birth_date, r.gender));
                    residents += 1;
                }
            }
        }
        assert_eq!((households, residents, visits), (60, 180, 120));
        let today = store.today();
        assert_eq!(store.due_checks(None, today).unwrap().len(), spec.routines);
        let open = store.open_events(None, None).unwrap().len();
        assert!(open > 0 && open < summary.events, "some events closed, some open: {open} of {}", summary.events);
        assert!(!store.overdue_events(None).unwrap().is_empty(), "some open events are overdue");
        let first_day = today - Duration::days(i64::from(spec.days_of_checks) - 1);
        let covered = store.coverage(summary.grids[0], first_day, today).unwrap();
        assert!(covered.visited > 0, "visits are spread over the days: {covered:?}");

        // The caller's handle writes on after the fill (its cache was dropped), and the documents
        // still load from disk.
        let home = store.households(summary.grids[0], false, Page::first(1)).unwrap()[0].id;
        let before = store.visits_of(home).unwrap().len();
        let visit = NewVisit {
            kind: VisitKind::Phone,
            at: None,
            purposes: vec![],
            notes: "电话回访".into(),
            satisfaction: None,
        };
        store.record_visit(home, visit).unwrap();
        drop(store);
        let store = Store::open(dir.path(), config).unwrap();
        store.rebuild_query_tables().unwrap();
        assert_eq!(store.visits_of(home).unwrap().len(), before + 1);
    }
}
