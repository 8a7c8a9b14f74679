//! The one way anything reaches stdout. `println!` panics when the reader has gone away
//! (`gridbook --json event list | head`); here a closed pipe becomes [`CliError::OutputClosed`],
//! which ends the command quietly and successfully.

use std::fmt::Display;
use std::io::{self, Write};

use crate::error::CliError;

/// Writes `text` and a newline.
pub fn line(text: impl Display) -> Result<(), CliError> {
    write(|out| writeln!(out, "{text}"))
}

/// Runs `f` with stdout locked, then flushes, so that a closed pipe is noticed here rather than
/// when the process exits.
pub fn write(f: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    f(&mut out).and_then(|()| out.flush()).map_err(CliError::from_output)
}

/// `println!` for the command line: formats a line and writes it through [`line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
