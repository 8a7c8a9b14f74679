//! The population ledger API: grids, households and residents (finding people is `search.rs`).

use rusqlite::{OptionalExtension, params};

use crate::db::query::{one, rows};
use crate::doc::{key, write_record};
use crate::error::{Error, Result};
use crate::ids::{DocId, GridId, HouseholdId, ResidentId};
use crate::model::*;
use crate::resident_merge::{not_merged, resident_rows};
use crate::store::Store;
use crate::validate::{line, normalize_phone, parse_id_number_on};

/// The fields of a new grid.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewGrid {
    /// The grid's name; it must not be empty.
    pub name: String,
    /// The village or community the grid belongs to; it must not be empty. It decides which
    /// village's secretary sees the grid, and the district's server keeps it for good once the
    /// grid is registered.
    pub village: String,
    /// The township or street above the village.
    pub township: String,
}

impl NewGrid {
    /// The grid these fields make, created `at`, if they are valid.
    pub(crate) fn checked(&self, at: chrono::DateTime<chrono::Utc>) -> Result<Grid> {
        Ok(Grid {
            id: GridId::new(),
            name: line("grid name", &self.name)?,
            village: line("village", &self.village)?,
            township: crate::validate::text("township", &self.township)?,
            created_at: at,
        })
    }
}

/// A page of a list: `offset` rows skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Page {
    /// Rows skipped.
    pub offset: u32,
    /// Rows returned at most.
    pub limit: u32,
}

impl Page {
    pub const ALL: Page = Page { offset: 0, limit: u32::MAX };
    pub fn first(limit: u32) -> Self {
        Page { offset: 0, limit }
    }
}

impl Store {
    /// Creates a grid.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the name or the village is empty; [`Error::Forbidden`] on a store
    /// enrolled as a grid member's or a department's, which the server would refuse the grid from.
    pub fn create_grid(&self, new: NewGrid) -> Result<Grid> {
        let grid = new.checked(self.now())?;
        if let Some(enrolment) = self.enrolment()?
            && matches!(enrolment.certificate.role.as_str(), "grid-member" | "department")
        {
            return Err(Error::Forbidden(
                "only the village's secretary or the district centre creates a grid; ask them to".into(),
            ));
        }
        self.edit(&DocId::grid(grid.id), "create grid", |tx| {
            write_record(tx, key::GRID, &grid, None)?;
            Ok(((), vec![key::GRID.into()]))
        })?;
        Ok(grid)
    }

    /// Every grid in the store, by name.
    pub fn grids(&self) -> Result<Vec<Grid>> {
        self.read(|c| rows(c, "SELECT record FROM grids ORDER BY name, id", params![]))
    }

    /// # Errors
    /// [`Error::NotFound`] for an unknown grid.
    pub fn grid(&self, id: GridId) -> Result<Grid> {
        self.read(|c| one(c, "SELECT record FROM grids WHERE id = ?1", id, "grid"))
    }

    /// Adds a household to a grid. Returns it as lists show it, its phone masked.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown grid; [`Error::InvalidInput`] for an empty address or head;
    /// [`Error::InvalidPhone`].
    pub fn add_household(&self, grid: GridId, new: NewHousehold) -> Result<Household> {
        self.grid(grid)?;
        let household = Household {
            id: HouseholdId::new(),
            grid_id: grid,
            address: line("address", &new.address)?,
            head_name: line("head of household", &new.head_name)?,
            phone: optional_phone(new.phone)?,
            care_tags: new.care_tags,
            notes: crate::validate::text("notes", &new.notes)?,
            status: HouseholdStatus::Active,
            moved_out_at: None,
        };
        self.put_household(&household, "add household", true)?;
        Ok(household.masked())
    }

    /// Edits a household's fields; only the fields given change. Returns it, its phone masked.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidInput`], [`Error::InvalidPhone`].
    pub fn edit_household(&self, id: HouseholdId, edit: HouseholdEdit) -> Result<Household> {
        let mut h = self.household_full(id)?;
        if let Some(address) = edit.address {
            h.address = line("address", &address)?;
        }
        if let Some(head) = edit.head_name {
            h.head_name = line("head of household", &head)?;
        }
        if let Some(phone) = edit.phone {
            h.phone = optional_phone(phone)?;
        }
        if let Some(tags) = edit.care_tags {
            h.care_tags = tags;
        }
        if let Some(notes) = edit.notes {
            h.notes = crate::validate::text("notes", &notes)?;
        }
        self.put_household(&h, "edit household", false).map(Household::masked)
    }

    /// Records that the whole household moved out. It stays in the ledger, marked. Returns it, its
    /// phone masked.
    pub fn move_out_household(&self, id: HouseholdId) -> Result<Household> {
        let mut h = self.household_full(id)?;
        h.status = HouseholdStatus::MovedOut;
        h.moved_out_at = Some(self.now());
        self.put_household(&h, "move out household", false).map(Household::masked)
    }

    /// Writes `h`; a `new` household's data key is made here (see `datakey`).
    fn put_household(&self, h: &Household, action: &str, new: bool) -> Result<Household> {
        let doc = DocId::household(h.grid_id, h.id);
        let seal = self.seal_for(h.id.0, &doc, new)?;
        self.edit(&doc, action, |tx| {
            write_record(tx, key::HOUSEHOLD, h, seal.as_ref())?;
            Ok((h.clone(), vec![key::HOUSEHOLD.into()]))
        })
    }

    /// A household, its phone masked ([`Store::reveal_household`] shows it in full).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown household.
    pub fn household(&self, id: HouseholdId) -> Result<Household> {
        self.household_full(id).map(Household::masked)
    }

    /// A household with its full phone, for the store's own use (an edit writes it back whole).
    pub(crate) fn household_full(&self, id: HouseholdId) -> Result<Household> {
        self.read(|c| one(c, "SELECT record FROM households WHERE id = ?1", id, "household")).or_else(|e| match e {
            Error::NotFound { .. } => self.refuse_erased(id.0, "household").and(Err(e)),
            e => Err(e),
        })
    }

    /// A grid's households in address order (numbers in addresses compare as numbers), phones
    /// masked.
    pub fn households(&self, grid: GridId, include_moved_out: bool, page: Page) -> Result<Vec<Household>> {
        let list: Vec<Household> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM households WHERE grid_id = ?1 AND (active OR ?2)
                 ORDER BY address_key, id LIMIT ?3 OFFSET ?4",
                params![grid, include_moved_out, page.limit, page.offset],
            )
        })?;
        Ok(list.into_iter().map(Household::masked).collect())
    }

    /// Adds a resident to a household. Returns them as lists show them, ID number and phone masked.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown household; [`Error::InvalidIdNumber`] when the ID number
    /// fails its check ([`crate::parse_id_number_on`], on the store's today) or disagrees with the
    /// birth date or gender given; [`Error::DuplicateIdNumber`] when a present resident of an active
    /// household already has the number; [`Error::InvalidPhone`]; [`Error::InvalidInput`] when
    /// neither an ID number nor gender and birth date are given.
    pub fn add_resident(&self, household: HouseholdId, new: NewResident) -> Result<Resident> {
        let h = self.household_full(household)?;
        let (id_number, gender, birth_date) = identity(new.id_number, new.gender, new.birth_date, self.today())?;
        let resident = Resident {
            id: ResidentId::new(),
            household_id: h.id,
            grid_id: h.grid_id,
            name: line("name", &new.name)?,
            id_number,
            gender,
            birth_date,
            relation: new.relation,
            phone: optional_phone(new.phone)?,
            registration: new.registration,
            care_tags: new.care_tags,
            status: ResidentStatus::Present,
            status_changed_at: None,
            merged_into: None,
        };
        self.put_resident_once(&resident, "add resident", true).map(Resident::masked)
    }

    /// Checks, without writing anything, that `new` could be added now: its fields as
    /// [`Store::add_resident`] checks them, and that no present resident of an active household
    /// other than `except` already has its ID number. A caller that has to write something first
    /// (an import creating the household, a move taking the person out of the old one) checks
    /// here so that a refusal leaves nothing behind.
    ///
    /// # Errors
    /// As [`Store::add_resident`]: [`Error::InvalidIdNumber`], [`Error::DuplicateIdNumber`],
    /// [`Error::InvalidPhone`], [`Error::InvalidInput`].
    pub fn check_new_resident(&self, new: &NewResident, except: Option<ResidentId>) -> Result<()> {
        line("name", &new.name)?;
        let (id_number, _, _) = identity(new.id_number.clone(), new.gender, new.birth_date, self.today())?;
        optional_phone(new.phone.clone())?;
        let Some(number) = id_number else { return Ok(()) };
        match self.read(|c| holder_of(c, &number, except))? {
            Some(household) => Err(Error::DuplicateIdNumber { household }),
            None => Ok(()),
        }
    }

    /// Edits a resident's fields; only the fields given change. Returns the resident, ID number
    /// and phone masked.
    ///
    /// # Errors
    /// As [`Store::add_resident`] (a resident keeping its own number is no duplicate; the check is
    /// made only when the number changes), [`Error::NotFound`] for an unknown resident, and
    /// [`Error::InvalidInput`] for a resident merged into another ([`Store::merge_residents`]).
    pub fn edit_resident(&self, id: ResidentId, edit: ResidentEdit) -> Result<Resident> {
        let mut r = self.resident_full(id)?;
        not_merged(&r)?;
        let before = r.id_number.clone();
        if let Some(name) = edit.name {
            r.name = line("name", &name)?;
        }
        if edit.id_number.is_some() || edit.gender.is_some() || edit.birth_date.is_some() {
            let (number, gender, birth_date) = match edit.id_number {
                // A new ID number brings its own gender and birth date unless others are given.
                Some(Some(number)) => (Some(number), edit.gender, edit.birth_date),
                Some(None) => (None, edit.gender.or(Some(r.gender)), edit.birth_date.or(Some(r.birth_date))),
                None => (r.id_number.clone(), edit.gender.or(Some(r.gender)), edit.birth_date.or(Some(r.birth_date))),
            };
            (r.id_number, r.gender, r.birth_date) = identity(number, gender, birth_date, self.today())?;
        }
        let number_changed = r.id_number != before;
        if let Some(relation) = edit.relation {
            r.relation = relation;
        }
        if let Some(phone) = edit.phone {
            r.phone = optional_phone(phone)?;
        }
        if let Some(registration) = edit.registration {
            r.registration = registration;
        }
        if let Some(tags) = edit.care_tags {
            r.care_tags = tags;
        }
        let written = if number_changed {
            self.put_resident_once(&r, "edit resident", false)
        } else {
            // Two entries a sync brought together are left for the person to sort out, not made
            // a reason to refuse an unrelated edit.
            self.put_resident(&r, "edit resident", false)
        };
        written.map(Resident::masked)
    }

    /// Records that a resident moved out of the household. Returns the resident, masked.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown resident; [`Error::InvalidInput`] for a resident merged
    /// into another.
    pub fn move_out_resident(&self, id: ResidentId) -> Result<Resident> {
        self.set_resident_status(id, ResidentStatus::MovedOut, "move out resident")
    }

    /// Moves a person to another household: `id` is recorded as moved out of theirs, and `new`
    /// added to `household` (a phone `new` lacks is the one the old record has), as two changes,
    /// so that each household's history tells its side. Returns the new resident, masked.
    ///
    /// # Errors
    /// As [`Store::move_out_resident`] and [`Store::add_resident`]; nothing is written when
    /// [`Store::check_new_resident`] refuses `new`.
    pub fn move_resident(&self, id: ResidentId, household: HouseholdId, new: NewResident) -> Result<Resident> {
        let from = self.resident_full(id)?;
        let new = NewResident { phone: new.phone.or(from.phone), ..new };
        self.check_new_resident(&new, Some(id))?;
        self.household_full(household)?;
        self.move_out_resident(id)?;
        self.add_resident(household, new)
    }

    /// Records a resident's death.
    ///
    /// # Errors
    /// As [`Store::move_out_resident`].
    pub fn mark_deceased(&self, id: ResidentId) -> Result<Resident> {
        self.set_resident_status(id, ResidentStatus::Deceased, "mark resident deceased")
    }

    fn set_resident_status(&self, id: ResidentId, status: ResidentStatus, action: &str) -> Result<Resident> {
        let mut r = self.resident_full(id)?;
        not_merged(&r)?;
        r.status = status;
        r.status_changed_at = Some(self.now());
        self.put_resident(&r, action, false).map(Resident::masked)
    }

    /// Writes `r`; a `new` resident's data key is made here (see `datakey`).
    pub(crate) fn put_resident(&self, r: &Resident, action: &str, new: bool) -> Result<Resident> {
        let root_key = key::of(key::RESIDENT, r.id);
        let doc = DocId::household(r.grid_id, r.household_id);
        let seal = self.seal_for(r.id.0, &doc, new)?;
        self.edit(&doc, action, |tx| {
            write_record(tx, &root_key, r, seal.as_ref())?;
            Ok((r.clone(), vec![root_key.clone()]))
        })
    }

    /// Writes `r` unless another present resident of an active household already has its ID
    /// number. Moved-out and deceased residents, and the members of a household that moved out,
    /// are the ledger's history: the same person may be entered again where they live now.
    fn put_resident_once(&self, r: &Resident, action: &str, new: bool) -> Result<Resident> {
        let Some(number) = r.id_number.clone().filter(|_| r.status == ResidentStatus::Present) else {
            return self.put_resident(r, action, new);
        };
        let root_key = key::of(key::RESIDENT, r.id);
        let doc = DocId::household(r.grid_id, r.household_id);
        let seal = self.seal_for(r.id.0, &doc, new)?;
        self.edit_checked(
            &doc,
            action,
            |c| match holder_of(c, &number, Some(r.id))? {
                Some(household) => Err(Error::DuplicateIdNumber { household }),
                None => Ok(()),
            },
            |tx| {
                write_record(tx, &root_key, r, seal.as_ref())?;
                Ok((r.clone(), vec![root_key.clone()]))
            },
        )
    }

    /// A resident, merged or not: a merged one says whom it was merged into. The ID number and
    /// phone are masked ([`Store::reveal_resident`] shows them in full).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown resident.
    pub fn resident(&self, id: ResidentId) -> Result<Resident> {
        self.resident_full(id).map(Resident::masked)
    }

    /// A resident with the full ID number and phone, for the store's own use (edits, merges).
    pub(crate) fn resident_full(&self, id: ResidentId) -> Result<Resident> {
        let found = self.read(|c| {
            resident_rows(
                c,
                "SELECT r.record, m.root FROM residents r
                 LEFT JOIN resident_merges m ON m.other = r.id AND m.root <> r.id WHERE r.id = ?1",
                [id],
            )
        })?;
        match found.into_iter().next() {
            Some(r) => Ok(r),
            None => self.refuse_erased(id.0, "resident").and(Err(Error::not_found("resident", id))),
        }
    }

    /// A household's residents, present ones first, masked; residents merged into others are
    /// left out.
    pub fn residents_of(&self, household: HouseholdId) -> Result<Vec<Resident>> {
        self.household_full(household)?;
        let list: Vec<Resident> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM residents WHERE household_id = ?1 AND id NOT IN
                     (SELECT other FROM resident_merges WHERE root <> other)
                 ORDER BY present DESC, id",
                params![household],
            )
        })?;
        Ok(list.into_iter().map(Resident::masked).collect())
    }
}

/// The household, as the command line names it (`GRID:ADDRESS`), of a present resident other than
/// `except` who has the (normalised) ID number `number` in an active household. The number is
/// stored normalised, so the index on it finds every way of writing it.
fn holder_of(c: &rusqlite::Connection, number: &str, except: Option<ResidentId>) -> Result<Option<String>> {
    let found = c
        .prepare_cached(
            "SELECT g.name, h.record FROM residents r
             JOIN households h ON h.id = r.household_id
             LEFT JOIN grids g ON g.id = r.grid_id
             WHERE r.id_number = ?1 AND (?2 IS NULL OR r.id <> ?2) AND r.present AND h.active
               AND r.id NOT IN (SELECT other FROM resident_merges WHERE root <> other)
             LIMIT 1",
        )?
        .query_row(params![number, except], |row| Ok((row.get::<_, Option<String>>(0)?, row.get::<_, String>(1)?)))
        .optional()?;
    let Some((grid, household)) = found else { return Ok(None) };
    let household: Household = serde_json::from_str(&household)?;
    Ok(Some(match grid {
        Some(grid) => format!("{grid}:{}", household.address),
        None => household.address,
    }))
}

/// Resolves an ID number with the gender and birth date given beside it, checked on `today`.
fn identity(
    id_number: Option<String>,
    gender: Option<Gender>,
    birth_date: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Result<(Option<String>, Gender, chrono::NaiveDate)> {
    match id_number.filter(|n| !n.trim().is_empty()) {
        Some(raw) => {
            let info = parse_id_number_on(&raw, today)?;
            if birth_date.is_some_and(|b| b != info.birth_date) {
                return Err(Error::InvalidIdNumber("its birth date does not agree with the birth date given".into()));
            }
            if gender.is_some_and(|g| g != info.gender) {
                return Err(Error::InvalidIdNumber("its gender digit does not agree with the gender given".into()));
            }
            Ok((Some(info.normalized), info.gender, info.birth_date))
        }
        None => match (gender, birth_date) {
            (Some(g), Some(b)) => Ok((None, g, b)),
            _ => Err(Error::invalid("resident", "without an ID number, give gender and birth date")),
        },
    }
}

fn optional_phone(phone: Option<String>) -> Result<Option<String>> {
    phone.filter(|p| !p.trim().is_empty()).map(|p| normalize_phone(&p)).transpose()
}
