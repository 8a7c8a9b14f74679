//! Arguments of `grid`, `household` and `resident`: the population ledger.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use gridbook_core::{CareTag, Gender, Registration, Relation};

#[derive(Debug, Subcommand)]
pub enum GridCmd {
    /// Create a grid.
    Add {
        /// The grid's name, unique enough to type instead of its id.
        name: String,
        /// The village or community the grid belongs to; its secretary sees the grid, and the
        /// district's server keeps it for good.
        #[arg(long)]
        village: String,
        /// The township or street above the village.
        #[arg(long, default_value = "")]
        township: String,
    },
    /// All grids in the store.
    List,
    /// One grid.
    Show {
        /// Grid id or name.
        grid: String,
    },
}

#[derive(Debug, Args)]
pub struct HouseholdFields {
    /// Building/unit/room, or village group and house number.
    #[arg(long)]
    pub address: Option<String>,
    /// The head of the household's name.
    #[arg(long)]
    pub head: Option<String>,
    /// The household's phone (mainland mobile, 11 digits).
    #[arg(long)]
    pub phone: Option<String>,
    /// A care tag (repeat): living_alone, elderly, low_income, disability, left_behind_child, rental_housing.
    #[arg(long = "tag")]
    pub tags: Vec<CareTag>,
    /// Free notes about the household.
    #[arg(long)]
    pub notes: Option<String>,
}

/// Changes to a record's care tags, as opposed to `--tag`, which gives the whole new set.
#[derive(Debug, Args)]
pub struct TagEdits {
    /// Add a care tag (repeat); the others stay.
    #[arg(long = "add-tag", conflicts_with = "tags")]
    pub add: Vec<CareTag>,
    /// Remove a care tag (repeat); the others stay.
    #[arg(long = "remove-tag", conflicts_with = "tags")]
    pub remove: Vec<CareTag>,
    /// Remove every care tag (before any --add-tag).
    #[arg(long = "clear-tags", conflicts_with = "tags")]
    pub clear: bool,
}

impl TagEdits {
    /// The new set of care tags, from the record's `current` ones, or `None` to leave them: `set`
    /// (from `--tag`) if given, else `current` changed by these edits.
    pub fn apply(self, current: &BTreeSet<CareTag>, set: Vec<CareTag>) -> Option<BTreeSet<CareTag>> {
        if !set.is_empty() {
            return Some(set.into_iter().collect());
        }
        if !self.clear && self.add.is_empty() && self.remove.is_empty() {
            return None;
        }
        let mut tags = if self.clear { BTreeSet::new() } else { current.clone() };
        tags.extend(self.add);
        for tag in &self.remove {
            tags.remove(tag);
        }
        Some(tags)
    }
}

#[derive(Debug, Subcommand)]
pub enum HouseholdCmd {
    /// Add a household to a grid (--address and --head are required).
    Add {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        #[command(flatten)]
        fields: HouseholdFields,
    },
    /// Change a household's fields; fields not given stay as they are. --tag gives the whole new
    /// set of care tags; --add-tag, --remove-tag and --clear-tags change the set it has.
    Edit {
        /// Household id, or "GRID:ADDRESS".
        household: String,
        #[command(flatten)]
        fields: HouseholdFields,
        #[command(flatten)]
        tag_edits: TagEdits,
        /// Remove the phone number.
        #[arg(long, conflicts_with = "phone")]
        clear_phone: bool,
    },
    /// Record that a household moved out (it stays in the ledger's history).
    MoveOut {
        /// Household id, or "GRID:ADDRESS".
        household: String,
    },
    /// One household.
    Show {
        /// Household id, or "GRID:ADDRESS".
        household: String,
    },
    /// One household with its full phone: a reveal, logged in the grid's access log.
    Reveal {
        /// Household id, or "GRID:ADDRESS".
        household: String,
        /// Why the full number is needed, as the access log keeps it.
        #[arg(long)]
        reason: String,
    },
    /// Ask the district's server to erase a household with all its residents: their data keys
    /// destroyed and their fields deleted on every device. Only the village's secretary or the
    /// centre may; the next sync sends the request, and the household stays until the server's
    /// notice comes back (`gridbook erasures` says where it stands).
    Erase {
        /// Household id, or "GRID:ADDRESS".
        household: String,
        /// Why it is erased, as the server keeps it with its notice.
        #[arg(long)]
        reason: String,
    },
    /// A grid's households in address order.
    List {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        /// Include households that moved out.
        #[arg(long)]
        all: bool,
        /// Skip this many households first.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Show at most this many households.
        #[arg(long)]
        limit: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct ResidentFields {
    /// The resident's full name.
    #[arg(long)]
    pub name: Option<String>,
    /// Resident ID number (18 characters).
    #[arg(long)]
    pub id_number: Option<String>,
    /// male or female (read from the ID number when it is given).
    #[arg(long)]
    pub gender: Option<Gender>,
    /// Birth date, YYYY-MM-DD.
    #[arg(long)]
    pub birth: Option<NaiveDate>,
    /// Relation to the head: head, spouse, child, child_in_law, parent, grandchild, grandparent, sibling, other.
    #[arg(long)]
    pub relation: Option<Relation>,
    /// The resident's phone (mainland mobile, 11 digits).
    #[arg(long)]
    pub phone: Option<String>,
    /// registered, resident or floating.
    #[arg(long)]
    pub registration: Option<Registration>,
    /// A care tag (repeat): living_alone, elderly, low_income, disability, left_behind_child, rental_housing.
    #[arg(long = "tag")]
    pub tags: Vec<CareTag>,
}

#[derive(Debug, Subcommand)]
pub enum ResidentCmd {
    /// Add a resident to a household (--name is required).
    Add {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long)]
        household: String,
        #[command(flatten)]
        fields: ResidentFields,
    },
    /// Change a resident's fields; fields not given stay as they are. --tag gives the whole new set
    /// of care tags; --add-tag, --remove-tag and --clear-tags change the set it has.
    Edit {
        /// Resident id.
        resident: String,
        #[command(flatten)]
        fields: ResidentFields,
        #[command(flatten)]
        tag_edits: TagEdits,
    },
    /// Record that a resident moved out.
    MoveOut {
        /// Resident id.
        resident: String,
    },
    /// Record that a resident died.
    Deceased {
        /// Resident id.
        resident: String,
    },
    /// One resident, with their age today (and, if merged, whom they were merged into). The ID
    /// number and phone are masked, as in every list: `resident reveal` shows them.
    Show {
        /// Resident id.
        resident: String,
    },
    /// One resident with the full ID number and phone: a reveal, logged in the grid's access log
    /// (who, when, which resident, why), which syncs to the district's server.
    Reveal {
        /// Resident id.
        resident: String,
        /// Why the full numbers are needed, as the access log keeps it.
        #[arg(long)]
        reason: String,
    },
    /// Ask the district's server to erase a resident, as `household erase` does for a household.
    Erase {
        /// Resident id.
        resident: String,
        /// Why it is erased, as the server keeps it with its notice.
        #[arg(long)]
        reason: String,
    },
    /// The residents of a household.
    List {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long)]
        household: String,
    },
    /// Residents who share an ID number: the same person entered on two devices offline, once
    /// their work has merged. Resolve each with `resident merge`, or by correcting a number.
    Duplicates,
    /// One person entered twice: keep KEEP, and merge OTHER into it. OTHER's routines, visits and
    /// history follow KEEP; the phone, ID number and care tags KEEP lacks are taken from OTHER.
    /// Refused for two people whose ID numbers differ. Prints KEEP as it now is.
    Merge {
        /// The resident kept (id).
        keep: String,
        /// The resident merged into it (id).
        other: String,
    },
    /// Search by any part of the name, by ID number or by phone.
    Search {
        /// Part of a name, an ID number or a phone number.
        text: String,
        /// Only this grid (id or name).
        #[arg(long)]
        grid: Option<String>,
        /// Show at most this many residents.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Residents with a care tag, e.g. `living_alone --min-age 70`.
    Tagged {
        /// living_alone, elderly, low_income, disability, left_behind_child or rental_housing.
        tag: CareTag,
        /// Only residents at least this old today.
        #[arg(long)]
        min_age: Option<u32>,
        /// Only this grid (id or name).
        #[arg(long)]
        grid: Option<String>,
    },
}
