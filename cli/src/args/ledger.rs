//! Arguments of `grid`, `household` and `resident`: the population ledger.

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
    /// Change a household's fields; fields not given stay as they are.
    Edit {
        /// Household id, or "GRID:ADDRESS".
        household: String,
        #[command(flatten)]
        fields: HouseholdFields,
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
    /// Change a resident's fields; fields not given stay as they are.
    Edit {
        /// Resident id.
        resident: String,
        #[command(flatten)]
        fields: ResidentFields,
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
    /// One resident, with their age today.
    Show {
        /// Resident id.
        resident: String,
    },
    /// The residents of a household.
    List {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long)]
        household: String,
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
