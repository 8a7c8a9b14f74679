//! What every command needs: the store opened as the person working, and names resolved to ids — a
//! secretary types a grid's name or a household's address rather than a UUID.

use std::sync::Arc;

use gridbook_core::{
    Error, EventId, FixedClock, GridId, HouseholdId, Page, ResidentId, RoutineId, Store, StoreConfig, WorkingAs,
};

use crate::args::Cli;
use crate::error::CliError;
use crate::key::{self, KeySource};

pub struct Context {
    pub store: Store,
    pub json: bool,
    /// Where the store's key came from, for `rekey`.
    pub key_source: KeySource,
}

/// What a command does when neither the store nor the command line says who is working.
pub enum Author {
    /// It refuses to run: it may make changes, and they would name no one.
    Required,
    /// It works as this person (the demo village's secretary).
    Fallback(WorkingAs),
    /// It makes no change of its own (enrolling, syncing), so it needs no one.
    NotNeeded,
}

impl Context {
    /// Opens the store as the person working: the store's enrolment, else `--as` and `--device`
    /// (remembered by the store for next time), else who the store remembers.
    ///
    /// # Errors
    /// [`CliError::Usage`] if no one is known and the command needs someone; the core's
    /// `forbidden` if `--as` or `--device` disagree with the store's enrolment.
    pub fn new(cli: &Cli, author: Author) -> Result<Self, CliError> {
        let flag = |f: &Option<String>| f.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let (user, device) = (flag(&cli.user), flag(&cli.device));
        // Opened first under a name no change is made with: who works comes from the store itself.
        let mut config = StoreConfig::new(user.as_deref().unwrap_or("-"), device.as_deref().unwrap_or("-"))
            .with_timezone(&cli.tz)?;
        if let Some(now) = cli.now {
            config.clock = Arc::new(FixedClock(now));
        }
        let (key, source) = key::store_key(cli)?;
        config.key = Some(key);
        let store = match Store::open(&cli.store, config.clone()) {
            Err(Error::WrongKey) => match key::unfinished_rekey(&source) {
                Some((next, next_file)) => {
                    config.key = Some(next);
                    let store = Store::open(&cli.store, config)?;
                    if let KeySource::File(file) = &source {
                        key::finish_rekey(&next_file, file)?;
                    }
                    store
                }
                None => return Err(Error::WrongKey.into()),
            },
            // A wipe cut off before its key file went: it goes now.
            Err(Error::Wiped) => {
                key::forget(&source)?;
                return Err(Error::Wiped.into());
            }
            opened => opened?,
        };
        let known = store.default_author()?;
        let known_user = known.as_ref().map(|k| k.user.clone()).filter(|u| !u.is_empty());
        let who = match (user.or(known_user), device.or(known.map(|k| k.device)), author) {
            (Some(user), Some(device), _) => Some(WorkingAs { user, device }),
            (_, _, Author::Fallback(who)) => Some(who),
            (_, _, Author::NotNeeded) => None,
            (_, _, Author::Required) => {
                return Err(CliError::Usage(
                    "who is working here? give --as NAME and --device NAME once (the store remembers them), \
                     or enrol the store (`gridbook enrol`)"
                        .into(),
                ));
            }
        };
        if let Some(who) = who {
            store.work_as(who)?;
        }
        Ok(Self { store, json: cli.json, key_source: source })
    }

    /// A grid by id, or by its name when exactly one grid has it.
    pub fn grid(&self, reference: &str) -> Result<GridId, CliError> {
        if let Ok(id) = reference.parse::<GridId>() {
            return Ok(self.store.grid(id)?.id);
        }
        let matches: Vec<GridId> =
            self.store.grids()?.into_iter().filter(|g| g.name == reference.trim()).map(|g| g.id).collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(CliError::Usage(format!("no grid is named {reference:?}; `gridbook grid list` shows them"))),
            _ => Err(CliError::Usage(format!("several grids are named {reference:?}; give its id"))),
        }
    }

    pub fn grid_opt(&self, reference: Option<&str>) -> Result<Option<GridId>, CliError> {
        reference.map(|r| self.grid(r)).transpose()
    }

    /// A household by id, or as `GRID:ADDRESS`.
    pub fn household(&self, reference: &str) -> Result<HouseholdId, CliError> {
        if let Ok(id) = reference.parse::<HouseholdId>() {
            return Ok(self.store.household(id)?.id);
        }
        let Some((grid, address)) = reference.split_once(':') else {
            return Err(CliError::Usage(format!("{reference:?} is neither a household id nor GRID:ADDRESS")));
        };
        let grid = self.grid(grid)?;
        self.store
            .households(grid, false, Page::ALL)?
            .into_iter()
            .find(|h| h.address == address.trim())
            .map(|h| h.id)
            .ok_or_else(|| CliError::Usage(format!("no household at {address:?} in that grid")))
    }

    pub fn resident(&self, reference: &str) -> Result<ResidentId, CliError> {
        Ok(self.store.resident(parse(reference, "resident")?)?.id)
    }

    pub fn routine(&self, reference: &str) -> Result<RoutineId, CliError> {
        Ok(self.store.routine(parse(reference, "routine")?)?.id)
    }

    pub fn event(&self, reference: &str) -> Result<EventId, CliError> {
        Ok(self.store.event(parse(reference, "event")?)?.id)
    }
}

fn parse<T: std::str::FromStr>(reference: &str, what: &str) -> Result<T, CliError> {
    reference.trim().parse().map_err(|_| CliError::Usage(format!("{reference:?} is not a {what} id")))
}
