//! `roster import` and `roster export`: the command side of the secretary's roster files (the
//! reading, matching and writing are in [`crate::roster`]).

use std::io::IsTerminal;

use crate::args::RosterCmd;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{json, outln};
use crate::roster;

pub fn roster(ctx: &Context, cmd: RosterCmd) -> Result<(), CliError> {
    match cmd {
        RosterCmd::Import { file, grid } => {
            let grid = ctx.grid_opt(grid.as_deref())?;
            let progress = !ctx.json && std::io::stderr().is_terminal();
            let report = roster::import(&ctx.store, &file, grid, progress)?;
            if ctx.json {
                json(&report)?;
            } else {
                outln!(
                    "{} rows: {} residents added, {} updated, {} unchanged, {} moved, {} households added; {} bad rows",
                    report.rows,
                    report.residents_added,
                    report.residents_updated,
                    report.residents_unchanged,
                    report.moves.len(),
                    report.households_added,
                    report.bad_rows.len()
                )?;
                for bad in &report.bad_rows {
                    outln!("row {}: {}", bad.row, bad.reason)?;
                }
                for moved in &report.moves {
                    outln!("row {}: moved from {} to {}", moved.row, moved.from, moved.to)?;
                }
                for note in &report.notes {
                    outln!("row {}: {}", note.row, note.note)?;
                }
            }
            if report.bad_rows.is_empty() {
                Ok(())
            } else {
                Err(CliError::BadRows { bad: report.bad_rows.len(), total: report.rows })
            }
        }
        RosterCmd::Export { file, grid, reveal, reason } => {
            let reason = if reveal { reason.as_deref() } else { None };
            let n = roster::export(&ctx.store, &file, ctx.grid(&grid)?, reason)?;
            if ctx.json {
                json(&serde_json::json!({ "file": file, "residents": n, "revealed": reveal }))
            } else if reveal {
                outln!("{n} residents written to {} with full ID numbers and phones (logged)", file.display())?;
                Ok(())
            } else {
                outln!("{n} residents written to {}", file.display())?;
                Ok(())
            }
        }
    }
}
