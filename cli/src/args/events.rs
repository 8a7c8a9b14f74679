//! Arguments of `event`: reporting a problem and taking it through its steps.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use gridbook_core::EventState;

#[derive(Debug, Subcommand)]
pub enum EventCmd {
    /// Report a problem in a grid; its deadline follows from its urgency.
    Report {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        /// The kind of problem, e.g. 市政设施.
        #[arg(long)]
        category: String,
        /// A short title, e.g. 路灯不亮.
        #[arg(long)]
        title: String,
        /// What was found.
        #[arg(long, default_value = "")]
        description: String,
        /// Latitude of the place (with --lon).
        #[arg(long, requires = "lon")]
        lat: Option<f64>,
        /// Longitude of the place (with --lat).
        #[arg(long, requires = "lat")]
        lon: Option<f64>,
        /// Accuracy of the location, in metres.
        #[arg(long, default_value_t = 20.0)]
        accuracy: f64,
        /// The household concerned: id, or "GRID:ADDRESS".
        #[arg(long)]
        household: Option<String>,
        /// Urgent: must be responded to sooner than a routine event.
        #[arg(long)]
        urgent: bool,
    },
    /// Take a step: solve-on-spot, dispatch, accept, send-back, resolve, escalate, evaluate, close.
    Step {
        /// Event id.
        event: String,
        /// solve-on-spot, dispatch, accept, send-back, resolve, escalate, evaluate or close.
        action: String,
        /// For dispatch: the department that takes the event.
        #[arg(long)]
        department: Option<String>,
        /// For evaluate: response speed, performance, completion, feedback, each 1–5.
        #[arg(long, value_delimiter = ',')]
        ratings: Vec<u8>,
        /// For evaluate: the reporter's comment.
        #[arg(long, default_value = "")]
        comment: String,
        /// A note kept with the step.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Attach a photo (JPEG or PNG): `event photo EVENT FILE`; or fetch an event's photos from the
    /// server: `event photo get EVENT`.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Photo {
        #[command(subcommand)]
        get: Option<PhotoCmd>,
        /// Event id.
        #[arg(required = true)]
        event: Option<String>,
        /// The photo file.
        #[arg(required = true)]
        file: Option<PathBuf>,
        /// When the photo was taken (RFC 3339; default now).
        #[arg(long)]
        taken_at: Option<DateTime<Utc>>,
    },
    /// One event with its steps and photos.
    Show {
        /// Event id.
        event: String,
    },
    /// Open events, optionally in one state.
    List {
        /// Only this grid (id or name).
        #[arg(long)]
        grid: Option<String>,
        /// reported, solved_on_spot, dispatched, accepted, resolved or evaluated.
        #[arg(long)]
        state: Option<EventState>,
        /// Only the overdue ones.
        #[arg(long)]
        overdue: bool,
    },
    /// Open events past their deadline.
    Overdue {
        /// Only this grid (id or name).
        #[arg(long)]
        grid: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PhotoCmd {
    /// Write the photos of an event into a directory as JPEG files (decrypted: the store's own are
    /// sealed), fetching those this store does not have yet from the server (the one it enrolled
    /// with, or --server and --token), each checked to be the photo named and kept; list the files
    /// written.
    Get {
        /// Event id.
        event: String,
        /// The directory to write the photos into, as SHA256.jpg (default: the current directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The district's server, if not the one this store enrolled with.
        #[arg(long, env = "GRIDBOOK_SERVER")]
        server: Option<String>,
        /// This device's token, with --server.
        #[arg(long, env = "GRIDBOOK_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}
