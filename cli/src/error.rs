//! Why a command failed, as a stable kind for scripts and an exit code for shells.

use gridbook_core::Error;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] Error),
    /// The command line names something that is not there, or asks for something impossible.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    File(String),
    /// A roster row gives an ID number or phone masked (as an export without `--reveal` writes
    /// it), and it is not the mask of the number the ledger has for the row's person: the row
    /// cannot say which number it means.
    #[error(
        "the {field} is masked (as an export without --reveal writes it) and matches no {field} the ledger has \
         for this person: enter it in full"
    )]
    Masked { field: &'static str },
    /// An import kept its good rows but not all rows were good.
    #[error("{bad} of {total} rows were not imported")]
    BadRows { bad: usize, total: usize },
    /// Whoever read the output stopped reading (`gridbook … | head`): the command ends quietly, as
    /// a success, because the reader has all it wanted.
    #[error("the output was closed")]
    OutputClosed,
}

impl CliError {
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.kind().as_str(),
            CliError::Usage(_) => "usage",
            CliError::File(_) | CliError::OutputClosed => "file",
            CliError::BadRows { .. } => "bad_rows",
            CliError::Masked { .. } => "masked",
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadRows { .. } => 3,
            CliError::Usage(_) => 2,
            CliError::OutputClosed => 0,
            _ => 1,
        }
    }

    /// A failed write to stdout: a closed pipe is the reader's choice, anything else (a full disk)
    /// is an error worth reporting.
    pub fn from_output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::OutputClosed
        } else {
            CliError::File(format!("cannot write the output: {e}"))
        }
    }
}
