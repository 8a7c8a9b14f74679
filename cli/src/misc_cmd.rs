//! `init`, `history`, `ledger`, `demo` and `sync`.

use std::io::IsTerminal;

use gridbook_core::demo::{self, VillageSpec};
use gridbook_core::sync::{Remote, SyncOptions, SyncProgress, SyncStatus};
use gridbook_core::{HistoryEntry, NewGrid};

use crate::args::{DemoArgs, HistoryCmd, InitArgs, LedgerCmd, SyncArgs};
use crate::context::Context;
use crate::output::{CliError, Table, json, opt, show, time};
use crate::roster;

pub fn init(ctx: &Context, args: InitArgs) -> Result<(), CliError> {
    let grid = match args.grid {
        Some(name) => Some(ctx.store.create_grid(NewGrid { name, village: args.village, township: args.township })?),
        None => None,
    };
    if ctx.json {
        return json(&serde_json::json!({ "store": ctx.store.dir(), "grid": grid }));
    }
    println!("store ready at {}", ctx.store.dir().display());
    if let Some(g) = grid {
        println!("grid {} created: {}", g.name, g.id);
    }
    Ok(())
}

pub fn history(ctx: &Context, cmd: HistoryCmd) -> Result<(), CliError> {
    let entries = match cmd {
        HistoryCmd::Household { household } => ctx.store.household_history(ctx.household(&household)?)?,
        HistoryCmd::Resident { resident } => ctx.store.resident_history(ctx.resident(&resident)?)?,
    };
    show(ctx.json, &entries, |e| history_table(ctx, e))
}

fn history_table(ctx: &Context, entries: &[HistoryEntry]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["when", "who", "device", "record", "field", "value"]);
    for e in entries {
        t.row(vec![
            time(e.at, tz),
            e.by.clone(),
            e.device.clone(),
            e.record.clone(),
            e.field.clone(),
            e.value.clone().unwrap_or_else(|| "(removed)".into()),
        ]);
    }
    t
}

pub fn ledger(ctx: &Context, cmd: LedgerCmd) -> Result<(), CliError> {
    match cmd {
        LedgerCmd::Import { file, grid } => {
            let grid = ctx.grid_opt(grid.as_deref())?;
            let progress = !ctx.json && std::io::stderr().is_terminal();
            let report = roster::import(&ctx.store, &file, grid, progress)?;
            if ctx.json {
                json(&report)?;
            } else {
                println!(
                    "{} rows: {} residents added, {} updated, {} households added; {} bad rows",
                    report.rows,
                    report.residents_added,
                    report.residents_updated,
                    report.households_added,
                    report.bad_rows.len()
                );
                for bad in &report.bad_rows {
                    println!("row {}: {}", bad.row, bad.reason);
                }
            }
            if report.bad_rows.is_empty() {
                Ok(())
            } else {
                Err(CliError::BadRows { bad: report.bad_rows.len(), total: report.rows })
            }
        }
        LedgerCmd::Export { file, grid } => {
            let n = roster::export(&ctx.store, &file, ctx.grid(&grid)?)?;
            if ctx.json {
                json(&serde_json::json!({ "file": file, "residents": n }))
            } else {
                println!("{n} residents written to {}", file.display());
                Ok(())
            }
        }
    }
}

pub fn demo(ctx: &Context, args: DemoArgs) -> Result<(), CliError> {
    let spec = match args.size.as_str() {
        "small" => VillageSpec::small(),
        "bench" => VillageSpec::bench(),
        other => return Err(CliError::Usage(format!("--size is small or bench, not {other:?}"))),
    };
    if !ctx.store.grids()?.is_empty() {
        return Err(CliError::Usage("this store already has grids; give demo an empty --store".into()));
    }
    let summary = demo::fill(&ctx.store, &spec)?;
    if ctx.json {
        return json(&summary);
    }
    println!(
        "a village in {}: {} grids, {} households, {} residents, {} curtain-check routines with {} checks, {} visits, {} events",
        ctx.store.dir().display(),
        summary.grids.len(),
        summary.households,
        summary.residents,
        summary.routines,
        summary.checks,
        summary.visits,
        summary.events
    );
    for g in &summary.grids {
        println!("grid {g}");
    }
    Ok(())
}

pub fn sync(ctx: &Context, args: SyncArgs) -> Result<(), CliError> {
    if !args.status {
        let server = args.server.ok_or_else(|| CliError::Usage("give --server (or GRIDBOOK_SERVER)".into()))?;
        let token = args.token.ok_or_else(|| CliError::Usage("give --token (or GRIDBOOK_TOKEN)".into()))?;
        let options = SyncOptions { photos: !args.no_photos, ..SyncOptions::default() };
        let remote = Remote::new(&server, &token, &options)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::File(e.to_string()))?;
        let bar = (!ctx.json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("photos {bar:30} {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let progress = |p: SyncProgress| {
            if let (Some(bar), SyncProgress::Photos { sent, total }) = (&bar, p) {
                bar.set_length(total);
                bar.set_position(sent);
            }
        };
        let report = runtime.block_on(ctx.store.sync_with_progress(&remote, &options, &progress))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if ctx.json {
            return json(&report);
        }
        println!(
            "synced in {} round trips: {} changes sent, {} received; {} photos uploaded ({} KB){}",
            report.round_trips,
            report.changes_sent,
            report.changes_received,
            report.photos_uploaded,
            report.photo_bytes_uploaded / 1024,
            if report.incomplete { "; more is waiting, sync again" } else { "" }
        );
        return Ok(());
    }
    let status = ctx.store.sync_status()?;
    show(ctx.json, &status, |s: &SyncStatus| {
        let tz = ctx.store.config().timezone;
        Table::record(vec![
            ("last sync", s.last_success_at.map(|t| time(t, tz)).unwrap_or_else(|| "never".into())),
            ("changes waiting", s.pending_changes.to_string()),
            ("photo bytes waiting", s.pending_photo_bytes.to_string()),
            ("last error", opt(&s.last_error)),
        ])
    })
}
