//! Arguments of `routine` and `check`: curtain-check routines and their daily checks.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::Subcommand;
use gridbook_core::{Day, Outcome, SignalKind};

#[derive(Debug, Subcommand)]
pub enum RoutineCmd {
    /// Agree a daily signal with a resident, with its local deadline.
    Add {
        /// Resident id.
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
        /// What to look for, e.g. which window.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Change a routine, pause it or resume it; fields not given stay as they are.
    Edit {
        /// Routine id.
        routine: String,
        /// curtains, light, phone_check_in or other.
        #[arg(long)]
        signal: Option<SignalKind>,
        /// Local deadline, HH:MM.
        #[arg(long)]
        deadline: Option<NaiveTime>,
        /// Days of the week: mon,tue,…
        #[arg(long, value_delimiter = ',')]
        days: Vec<Day>,
        /// Stop checking this routine until it is resumed.
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        /// Check a paused routine again.
        #[arg(long)]
        resume: bool,
        /// What to look for, e.g. which window.
        #[arg(long)]
        note: Option<String>,
    },
    /// One routine.
    Show {
        /// Routine id.
        routine: String,
    },
    /// A resident's routines.
    List {
        /// Resident id.
        #[arg(long)]
        resident: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckCmd {
    /// Routines due on a day (default today) with their state.
    Due {
        /// Only this grid (id or name).
        #[arg(long)]
        grid: Option<String>,
        /// The local day, YYYY-MM-DD (default today).
        #[arg(long)]
        day: Option<NaiveDate>,
    },
    /// The signal was seen.
    Seen {
        /// Routine id.
        routine: String,
        /// The local day, YYYY-MM-DD (default today).
        #[arg(long)]
        day: Option<NaiveDate>,
        /// When it was seen (RFC 3339; default now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// A note on what was seen.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Someone went to the door (or called): all_well, needed_help, not_home, escalated, relatives_called.
    FollowUp {
        /// Routine id.
        routine: String,
        /// all_well, needed_help, not_home, escalated or relatives_called.
        #[arg(long)]
        outcome: Outcome,
        /// The local day, YYYY-MM-DD (default today).
        #[arg(long)]
        day: Option<NaiveDate>,
        /// What was found at the door.
        #[arg(long, default_value = "")]
        note: String,
    },
}
