//! Arguments of the commands about the store as a whole: `init`, `history` and `demo`.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of a first grid to create (with its `--village`).
    #[arg(long, requires = "village")]
    pub grid: Option<String>,
    /// The first grid's village or community.
    #[arg(long, requires = "grid")]
    pub village: Option<String>,
    /// The first grid's township or street.
    #[arg(long, default_value = "")]
    pub township: String,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCmd {
    /// Every change to a household and the residents in it, oldest first.
    Household {
        /// Household id, or "GRID:ADDRESS".
        household: String,
    },
    /// Every change to one resident, oldest first.
    Resident {
        /// Resident id.
        resident: String,
    },
    /// The access log: every reveal of full ID numbers and phones this store holds (its own, and
    /// those in its grids the server sent), newest first.
    Access,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// `small` to try things out, `bench` for the benchmark-sized village.
    #[arg(long, default_value = "small")]
    pub size: String,
}
