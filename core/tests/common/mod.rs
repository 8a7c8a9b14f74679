//! What the core's tests share: a store in a temporary directory on a clock the test moves, and
//! builders for the records a grid member enters.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use gridbook_core::{
    CareTag, Gender, Grid, GridId, Household, HouseholdId, ManualClock, NewGrid, NewHousehold, NewResident,
    Registration, Relation, Resident, Store, StoreConfig,
};
use tempfile::TempDir;

pub struct Fixture {
    pub store: Store,
    pub clock: ManualClock,
    pub dir: TempDir,
}

/// 2026-11-20 12:00 in Shanghai.
pub fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap()
}

impl Fixture {
    pub fn new(user: &str) -> Self {
        Self::with(user, |_| {})
    }

    pub fn with(user: &str, adjust: impl FnOnce(&mut StoreConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(noon());
        let mut config = StoreConfig::new(user, format!("{user}-phone"));
        config.clock = Arc::new(clock.clone());
        adjust(&mut config);
        let store = Store::open(dir.path(), config).unwrap();
        Self { store, clock, dir }
    }

    /// Opens the same directory again, as after the app was restarted.
    pub fn reopen(self) -> Self {
        let Fixture { store, clock, dir } = self;
        let config = store.config().clone();
        drop(store);
        let store = Store::open(dir.path(), config).unwrap();
        Self { store, clock, dir }
    }

    pub fn grid(&self, name: &str) -> Grid {
        self.store
            .create_grid(NewGrid { name: name.into(), village: "幸福村".into(), township: "城关街道".into() })
            .unwrap()
    }

    pub fn household(&self, grid: GridId, address: &str) -> Household {
        self.store.add_household(grid, household(address, "张德顺")).unwrap()
    }

    pub fn resident(&self, household: HouseholdId, name: &str, birth: &str, male: bool) -> Resident {
        self.store.add_resident(household, resident(name, birth, male)).unwrap()
    }
}

pub fn household(address: &str, head: &str) -> NewHousehold {
    NewHousehold { address: address.into(), head_name: head.into(), ..Default::default() }
}

/// A valid ID number for a birth date (`YYYYMMDD`) and gender.
pub fn id_number(birth: &str, male: bool) -> String {
    let first17 = format!("330106{birth}{:03}", if male { 11 } else { 22 });
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", gridbook_core::id_check_char(&digits))
}

pub fn resident(name: &str, birth: &str, male: bool) -> NewResident {
    NewResident {
        name: name.into(),
        id_number: Some(id_number(birth, male)),
        gender: None,
        birth_date: None,
        relation: Relation::Head,
        phone: None,
        registration: Registration::Registered,
        care_tags: [CareTag::Elderly].into(),
    }
}

pub fn gender(male: bool) -> Gender {
    if male { Gender::Male } else { Gender::Female }
}
