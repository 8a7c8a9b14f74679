//! Arguments of `roster import|export`: the secretary's roster files.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// Import a roster (.csv or .xlsx; columns in cli/README.md). Good rows are kept even when some
    /// rows are bad; bad rows are listed by their row number.
    Import {
        /// The roster file: .csv, .xlsx, .xls or .ods.
        file: PathBuf,
        /// The grid the rows belong to, unless the file has a 网格/grid column.
        #[arg(long)]
        grid: Option<String>,
    },
    /// Export a grid's roster (.csv or .xlsx, by extension) in the import's columns, ID numbers
    /// and phones masked; re-importing it changes nothing. With --reveal they are written in full,
    /// and the export is logged in the grid's access log with its --reason.
    Export {
        /// The file to write: .csv or .xlsx.
        file: PathBuf,
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        /// Write full ID numbers and phones (a reveal, logged; --reason is required).
        #[arg(long, requires = "reason")]
        reveal: bool,
        /// Why the full numbers are needed, as the access log keeps it.
        #[arg(long, requires = "reveal")]
        reason: Option<String>,
    },
}
