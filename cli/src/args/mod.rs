//! The command line's shape: global options and the list of commands. Each command group's
//! arguments live in the submodule named for what it works on.

mod checks;
mod events;
mod ledger;
mod roster;
mod store;
mod sync;
mod visits;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

pub use checks::{CheckCmd, RoutineCmd};
pub use events::{EventCmd, PhotoCmd};
pub use ledger::{GridCmd, HouseholdCmd, HouseholdFields, ResidentCmd, ResidentFields};
pub use roster::RosterCmd;
pub use store::{DemoArgs, HistoryCmd, InitArgs};
pub use sync::{EnrolArgs, SyncArgs};
pub use visits::VisitCmd;

/// Gridbook on a desktop: the population ledger, curtain checks, visits and events of a grid.
#[derive(Debug, Parser)]
#[command(name = "gridbook", version)]
pub struct Cli {
    /// The store's directory.
    #[arg(long, global = true, env = "GRIDBOOK_STORE", default_value = "gridbook-store")]
    pub store: PathBuf,
    /// Who is working (recorded with every change). Needed once: the store remembers it. An
    /// enrolled store works as its holder, and refuses another name.
    #[arg(long = "as", global = true, env = "GRIDBOOK_USER")]
    pub user: Option<String>,
    /// This computer's name (recorded with every change). Needed once: the store remembers it. An
    /// enrolled store works as its enrolled device, and refuses another name.
    #[arg(long, global = true, env = "GRIDBOOK_DEVICE")]
    pub device: Option<String>,
    /// The store's key file (32 bytes, or 64 hex digits), made if it does not exist. Without it the
    /// key comes from GRIDBOOK_PASSPHRASE, else from a key file of your own (see cli/README.md).
    #[arg(long, global = true, env = "GRIDBOOK_KEY_FILE")]
    pub key_file: Option<PathBuf>,
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
    /// Grids: the smallest unit of the ledger, each with its village and township.
    #[command(subcommand)]
    Grid(GridCmd),
    /// Households of a grid: add, edit, move out, show and list them.
    #[command(subcommand)]
    Household(HouseholdCmd),
    /// Residents of a household: add, edit, record a move or a death, show, list and search them.
    #[command(subcommand)]
    Resident(ResidentCmd),
    /// Curtain-check routines.
    #[command(subcommand)]
    Routine(RoutineCmd),
    /// Curtain checks: what is due today, and recording them.
    #[command(subcommand)]
    Check(CheckCmd),
    /// Visits to households: record them, list them, and a grid's coverage.
    #[command(subcommand)]
    Visit(VisitCmd),
    /// Events: report a problem, take its steps, attach photos, list the open and overdue ones.
    #[command(subcommand)]
    Event(EventCmd),
    /// Who changed which field when.
    #[command(subcommand)]
    History(HistoryCmd),
    /// The erasures this store asked for or carried out: requested, refused (and why) or erased.
    /// Ids only: nothing of an erased record is left to show.
    Erasures,
    /// Import or export the roster as CSV or XLSX (`ledger` is an older name that still works).
    #[command(subcommand, alias = "ledger")]
    Roster(RosterCmd),
    /// Fill the store with a realistic village, to try things out.
    Demo(DemoArgs),
    /// Exchange everything new with the district's sync server.
    Sync(SyncArgs),
    /// Enrol this store with the district's sync server, with the centre's one-time code.
    Enrol(EnrolArgs),
    /// Encrypt the store under a new key: a new random one in its key file, or, for a store kept
    /// under a passphrase, the one in GRIDBOOK_NEW_PASSPHRASE.
    Rekey,
}
