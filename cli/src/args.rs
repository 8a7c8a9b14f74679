//! The command line's shape: global options and every subcommand with its arguments.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::{Args, Parser, Subcommand};
use gridbook_core::{
    CareTag, Day, EventState, Gender, Outcome, Registration, Relation, Satisfaction, SignalKind, VisitKind,
};

/// Gridbook on a desktop: the population ledger, curtain checks, visits and events of a grid.
#[derive(Debug, Parser)]
#[command(name = "gridbook", version)]
pub struct Cli {
    /// The store's directory.
    #[arg(long, global = true, env = "GRIDBOOK_STORE", default_value = "gridbook-store")]
    pub store: PathBuf,
    /// Who is working (recorded with every change).
    #[arg(long = "as", global = true, env = "GRIDBOOK_USER", default_value = "secretary")]
    pub user: String,
    /// This computer's name (recorded with every change).
    #[arg(long, global = true, env = "GRIDBOOK_DEVICE", default_value = "pc")]
    pub device: String,
    /// Fix the clock (RFC 3339), for tests and demos.
    #[arg(long, global = true, env = "GRIDBOOK_NOW")]
    pub now: Option<DateTime<Utc>>,
    /// The district's time zone (IANA name).
    #[arg(long, global = true, env = "GRIDBOOK_TZ", default_value = "Asia/Shanghai")]
    pub tz: String,
    /// Print JSON instead of tables (see cli/README.md for the shapes).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or open) the store, optionally with a first grid.
    Init(InitArgs),
    #[command(subcommand)]
    Grid(GridCmd),
    #[command(subcommand)]
    Household(HouseholdCmd),
    #[command(subcommand)]
    Resident(ResidentCmd),
    /// Curtain-check routines.
    #[command(subcommand)]
    Routine(RoutineCmd),
    /// Curtain checks: what is due today, and recording them.
    #[command(subcommand)]
    Check(CheckCmd),
    #[command(subcommand)]
    Visit(VisitCmd),
    #[command(subcommand)]
    Event(EventCmd),
    /// Who changed which field when.
    #[command(subcommand)]
    History(HistoryCmd),
    /// Import or export the roster as CSV or XLSX.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Fill the store with a realistic village, to try things out.
    Demo(DemoArgs),
    /// Exchange everything new with the district's sync server.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of a first grid to create.
    #[arg(long)]
    pub grid: Option<String>,
    #[arg(long, default_value = "")]
    pub village: String,
    #[arg(long, default_value = "")]
    pub township: String,
}

#[derive(Debug, Subcommand)]
pub enum GridCmd {
    Add {
        name: String,
        #[arg(long, default_value = "")]
        village: String,
        #[arg(long, default_value = "")]
        township: String,
    },
    List,
    Show {
        grid: String,
    },
}

#[derive(Debug, Args)]
pub struct HouseholdFields {
    #[arg(long)]
    pub address: Option<String>,
    /// The head of the household's name.
    #[arg(long)]
    pub head: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    /// A care tag (repeat): living_alone, elderly, low_income, disability, left_behind_child, rental_housing.
    #[arg(long = "tag")]
    pub tags: Vec<CareTag>,
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HouseholdCmd {
    Add {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        #[command(flatten)]
        fields: HouseholdFields,
    },
    Edit {
        household: String,
        #[command(flatten)]
        fields: HouseholdFields,
        /// Remove the phone number.
        #[arg(long, conflicts_with = "phone")]
        clear_phone: bool,
    },
    MoveOut {
        household: String,
    },
    Show {
        household: String,
    },
    /// A grid's households in address order.
    List {
        #[arg(long)]
        grid: String,
        /// Include households that moved out.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[arg(long)]
        limit: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct ResidentFields {
    #[arg(long)]
    pub name: Option<String>,
    /// Resident ID number (18 characters).
    #[arg(long)]
    pub id_number: Option<String>,
    #[arg(long)]
    pub gender: Option<Gender>,
    /// Birth date, YYYY-MM-DD.
    #[arg(long)]
    pub birth: Option<NaiveDate>,
    /// Relation to the head: head, spouse, child, child_in_law, parent, grandchild, grandparent, sibling, other.
    #[arg(long)]
    pub relation: Option<Relation>,
    #[arg(long)]
    pub phone: Option<String>,
    /// registered, resident or floating.
    #[arg(long)]
    pub registration: Option<Registration>,
    #[arg(long = "tag")]
    pub tags: Vec<CareTag>,
}

#[derive(Debug, Subcommand)]
pub enum ResidentCmd {
    Add {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long)]
        household: String,
        #[command(flatten)]
        fields: ResidentFields,
    },
    Edit {
        resident: String,
        #[command(flatten)]
        fields: ResidentFields,
    },
    MoveOut {
        resident: String,
    },
    Deceased {
        resident: String,
    },
    Show {
        resident: String,
    },
    /// The residents of a household.
    List {
        #[arg(long)]
        household: String,
    },
    /// Search by any part of the name, by ID number or by phone.
    Search {
        text: String,
        #[arg(long)]
        grid: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Residents with a care tag, e.g. `living_alone --min-age 70`.
    Tagged {
        tag: CareTag,
        #[arg(long)]
        min_age: Option<u32>,
        #[arg(long)]
        grid: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoutineCmd {
    Add {
        #[arg(long)]
        resident: String,
        /// curtains, light, phone_check_in or other.
        #[arg(long, default_value = "curtains")]
        signal: SignalKind,
        /// Local deadline, HH:MM.
        #[arg(long)]
        deadline: NaiveTime,
        /// Days of the week (default every day): mon,tue,…
        #[arg(long, value_delimiter = ',')]
        days: Vec<Day>,
        #[arg(long, default_value = "")]
        note: String,
    },
    Edit {
        routine: String,
        #[arg(long)]
        signal: Option<SignalKind>,
        #[arg(long)]
        deadline: Option<NaiveTime>,
        #[arg(long, value_delimiter = ',')]
        days: Vec<Day>,
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        #[arg(long)]
        resume: bool,
        #[arg(long)]
        note: Option<String>,
    },
    Show {
        routine: String,
    },
    List {
        #[arg(long)]
        resident: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckCmd {
    /// Routines due on a day (default today) with their state.
    Due {
        #[arg(long)]
        grid: Option<String>,
        #[arg(long)]
        day: Option<NaiveDate>,
    },
    /// The signal was seen.
    Seen {
        routine: String,
        #[arg(long)]
        day: Option<NaiveDate>,
        /// When it was seen (RFC 3339; default now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Someone went to the door (or called): all_well, needed_help, not_home, escalated, relatives_called.
    FollowUp {
        routine: String,
        #[arg(long)]
        outcome: Outcome,
        #[arg(long)]
        day: Option<NaiveDate>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VisitCmd {
    Add {
        #[arg(long)]
        household: String,
        /// home, phone, on_the_spot or follow_up.
        #[arg(long, default_value = "home")]
        kind: VisitKind,
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        #[arg(long, default_value = "")]
        notes: String,
        /// For follow-up visits: very_satisfied, satisfied, neutral, dissatisfied.
        #[arg(long)]
        satisfaction: Option<Satisfaction>,
    },
    List {
        #[arg(long)]
        household: String,
    },
    /// Households visited / households, over a range of local days.
    Coverage {
        #[arg(long)]
        grid: String,
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
    },
    /// Each household's last visit.
    Last {
        #[arg(long)]
        grid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventCmd {
    Report {
        #[arg(long)]
        grid: String,
        #[arg(long)]
        category: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, requires = "lat")]
        lon: Option<f64>,
        /// Accuracy of the location, in metres.
        #[arg(long, default_value_t = 20.0)]
        accuracy: f64,
        #[arg(long)]
        household: Option<String>,
        #[arg(long)]
        urgent: bool,
    },
    /// Take a step: solve-on-spot, dispatch, accept, send-back, resolve, escalate, evaluate, close.
    Step {
        event: String,
        action: String,
        #[arg(long)]
        department: Option<String>,
        /// For evaluate: response speed, performance, completion, feedback, each 1–5.
        #[arg(long, value_delimiter = ',')]
        ratings: Vec<u8>,
        #[arg(long, default_value = "")]
        comment: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Attach a photo (JPEG or PNG).
    Photo {
        event: String,
        file: PathBuf,
        #[arg(long)]
        taken_at: Option<DateTime<Utc>>,
    },
    Show {
        event: String,
    },
    /// Open events, optionally in one state.
    List {
        #[arg(long)]
        grid: Option<String>,
        #[arg(long)]
        state: Option<EventState>,
        /// Only the overdue ones.
        #[arg(long)]
        overdue: bool,
    },
    /// Open events past their deadline.
    Overdue {
        #[arg(long)]
        grid: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryCmd {
    Household { household: String },
    Resident { resident: String },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCmd {
    /// Import a roster (.csv or .xlsx; columns in cli/README.md). Good rows are kept even when some
    /// rows are bad; bad rows are listed by their row number.
    Import {
        file: PathBuf,
        /// The grid the rows belong to, unless the file has a 网格/grid column.
        #[arg(long)]
        grid: Option<String>,
    },
    /// Export a grid's roster (.csv or .xlsx, by extension) in the import's columns.
    Export {
        file: PathBuf,
        #[arg(long)]
        grid: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// `small` to try things out, `bench` for the benchmark-sized village.
    #[arg(long, default_value = "small")]
    pub size: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The district sync server, e.g. https://sync.example.gov.cn
    #[arg(long, env = "GRIDBOOK_SERVER")]
    pub server: Option<String>,
    /// This device's token (from `gridbook-server device add`).
    #[arg(long, env = "GRIDBOOK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Only show the sync status.
    #[arg(long)]
    pub status: bool,
    /// Leave photos for later (sync records only).
    #[arg(long)]
    pub no_photos: bool,
}
