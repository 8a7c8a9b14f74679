//! `sync`: exchanging everything new with the district's server, or showing how far behind it is.

use std::io::IsTerminal;

use gridbook_core::sync::{Remote, SyncOptions, SyncProgress};

use crate::args::{EnrolArgs, SyncArgs};
use crate::context::Context;
use crate::error::CliError;
use crate::output::json::JsonShape;
use crate::output::{Table, json, opt, outln, time};

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| CliError::File(e.to_string()))
}

/// The server to talk to: `--server` and `--token` if given, else the one this store enrolled with.
pub(crate) fn remote(
    ctx: &Context,
    server: Option<String>,
    token: Option<String>,
    options: &SyncOptions,
) -> Result<Remote, CliError> {
    match (server, token) {
        (Some(server), Some(token)) => Ok(Remote::new(&server, &token, options)?),
        (None, None) if ctx.store.enrolment()?.is_some() => Ok(ctx.store.enrolled_remote(options)?),
        (None, None) => Err(CliError::Usage(
            "this store is not enrolled: run `gridbook enrol --server URL --code CODE` with the centre's code \
             (or give --server and --token)"
                .into(),
        )),
        (Some(_), None) => Err(CliError::Usage("give --token (or GRIDBOOK_TOKEN)".into())),
        (None, Some(_)) => Err(CliError::Usage("give --server (or GRIDBOOK_SERVER)".into())),
    }
}

/// `enrol`: the store shows its key and the centre's one-time code to the server, and keeps the
/// token and certificate it answers with.
pub fn enrol(ctx: &Context, args: EnrolArgs) -> Result<(), CliError> {
    let enrolment = runtime()?.block_on(ctx.store.enrol(&args.server, &args.code, &SyncOptions::default()))?;
    let c = &enrolment.certificate;
    if ctx.json {
        return json(&serde_json::json!({
            "device": c.device, "holder": c.holder, "role": c.role, "grids": c.grids.len(),
            "expires_at": c.expires_at,
        }));
    }
    outln!(
        "enrolled as {} ({}, {}), {} grid(s); `gridbook sync` needs nothing more",
        c.device,
        if c.holder.is_empty() { "no holder named" } else { c.holder.as_str() },
        c.role,
        c.grids.len()
    )
}

pub fn sync(ctx: &Context, args: SyncArgs) -> Result<(), CliError> {
    if let Some(doc) = &args.discard {
        ctx.store.discard_refused(doc)?;
        return outln!("discarded {doc}");
    }
    if let Some(doc) = &args.retry {
        ctx.store.retry_refused(doc)?;
        return outln!("{doc} goes up again at the next sync");
    }
    if !args.status {
        let options = SyncOptions { photos: !args.no_photos, ..SyncOptions::default() };
        let remote = remote(ctx, args.server, args.token, &options)?;
        let runtime = runtime()?;
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
        let synced = runtime.block_on(ctx.store.sync_with_progress(&remote, &options, &progress));
        if let Err(gridbook_core::Error::Wiped) = synced {
            crate::key::forget(&ctx.key_source)?;
        }
        let report = synced?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if ctx.json {
            return json(&report.json_shape());
        }
        outln!(
            "synced in {} round trips: {} changes sent, {} received; {} photos uploaded ({} KB){}",
            report.round_trips,
            report.changes_sent,
            report.changes_received,
            report.photos_uploaded,
            report.photo_bytes_uploaded / 1024,
            if report.incomplete { "; more is waiting, sync again" } else { "" }
        )?;
        let erasure = report.erasure;
        if erasure.erased > 0 {
            outln!("erased {} residents and households on the district's order", erasure.erased)?;
        }
        if erasure.discarded_changes > 0 {
            outln!("{} changes not yet sent to erased households were discarded with them", erasure.discarded_changes)?;
        }
        if erasure.resynced {
            outln!("this store had missed erasures: it asked the server again for every record's key")?;
        }
        return Ok(());
    }
    let status = ctx.store.sync_status()?;
    if ctx.json {
        return json(&status.json_shape());
    }
    let tz = ctx.store.config().timezone;
    Table::record(vec![
        ("last sync", status.last_success_at.map(|t| time(t, tz)).unwrap_or_else(|| "never".into())),
        ("changes waiting", status.pending_changes.to_string()),
        ("photo bytes waiting", status.pending_photo_bytes.to_string()),
        ("last error", opt(&status.last_error)),
    ])
    .print()?;
    if status.refused.is_empty() {
        return Ok(());
    }
    outln!("\nrefused by the server (held back; gridbook sync --discard DOC or --retry DOC):")?;
    let mut table = Table::new(&["document", "reason", "last refused"]);
    for r in &status.refused {
        table.row(vec![r.doc.clone(), r.reason.as_str().to_string(), time(r.last_refused_at, tz)]);
    }
    table.print()
}
