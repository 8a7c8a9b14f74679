//! `gridbook`: the field store on a desktop — for a village secretary on a PC, and for testing.
//! Every command has a readable table by default and stable JSON under `--json` (documented in
//! `cli/README.md`); errors go to stderr with a non-zero exit code, and under `--json` as
//! `{"error":{"kind","message"}}` with the core's stable kinds.

mod args;
mod context;
mod demo_cmd;
mod erasure_cmd;
mod error;
mod event_cmd;
mod key;
mod ledger_cmd;
mod output;
pub mod roster;
mod roster_cmd;
mod routine_cmd;
mod store_cmd;
mod sync_cmd;
mod visit_cmd;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::Command;
use context::{Author, Context};
pub use error::CliError;
use gridbook_core::WorkingAs;

/// Runs the command line given in `args` (the program name first) and says how it ended.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; clap knows which is which.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    match dispatch(cli) {
        // The reader of stdout has all it wanted; nothing more to say.
        Ok(()) | Err(CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            output::report_error(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    let author = match &cli.command {
        // The demo village is kept by its secretary, on a computer named for the demo.
        Command::Demo(_) => Author::Fallback(WorkingAs { user: "刘敏".into(), device: "demo-pc".into() }),
        Command::Sync(_) | Command::Enrol(_) | Command::Rekey => Author::NotNeeded,
        _ => Author::Required,
    };
    let ctx = Context::new(&cli, author)?;
    match cli.command {
        Command::Demo(a) => demo_cmd::demo(&ctx, a),
        Command::Init(a) => store_cmd::init(&ctx, a),
        Command::Grid(c) => ledger_cmd::grid(&ctx, c),
        Command::Household(c) => ledger_cmd::household(&ctx, c),
        Command::Resident(c) => ledger_cmd::resident(&ctx, c),
        Command::Routine(c) => routine_cmd::routine(&ctx, c),
        Command::Check(c) => routine_cmd::check(&ctx, c),
        Command::Visit(c) => visit_cmd::visit(&ctx, c),
        Command::Event(c) => event_cmd::event(&ctx, c),
        Command::History(c) => store_cmd::history(&ctx, c),
        Command::Erasures => erasure_cmd::erasures(&ctx),
        Command::Roster(c) => roster_cmd::roster(&ctx, c),
        Command::Sync(a) => sync_cmd::sync(&ctx, a),
        Command::Enrol(a) => sync_cmd::enrol(&ctx, a),
        Command::Rekey => store_cmd::rekey(&ctx, &cli.store),
    }
}
