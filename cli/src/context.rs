//! What every command needs: the store opened as the person working, and names resolved to ids — a
//! secretary types a grid's name or a household's address rather than a UUID.

use std::sync::Arc;

use gridbook_core::{EventId, FixedClock, GridId, HouseholdId, Page, ResidentId, RoutineId, Store, StoreConfig};

use crate::args::Cli;
use crate::error::CliError;

pub struct Context {
    pub store: Store,
    pub json: bool,
}

impl Context {
    pub fn new(cli: &Cli) -> Result<Self, CliError> {
        let mut config = StoreConfig::new(cli.user.trim(), cli.device.trim()).with_timezone(&cli.tz)?;
        if let Some(now) = cli.now {
            config.clock = Arc::new(FixedClock(now));
        }
        let store = Store::open(&cli.store, config)?;
        Ok(Self { store, json: cli.json })
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
