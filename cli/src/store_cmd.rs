//! `init`, `rekey` and `history`: making the store, changing its key, and reading who changed what in it.

use gridbook_core::{AccessEntry, HistoryEntry, NewGrid};

use crate::args::{HistoryCmd, InitArgs};
use crate::context::Context;
use crate::error::CliError;
use crate::key::{self, KeySource};
use crate::output::json::JsonShape;
use crate::output::{Table, json, outln, show, time};

pub fn init(ctx: &Context, args: InitArgs) -> Result<(), CliError> {
    let grid = match args.grid {
        Some(name) => Some(ctx.store.create_grid(NewGrid {
            name,
            village: args.village.unwrap_or_default(),
            township: args.township,
        })?),
        None => None,
    };
    if ctx.json {
        let grid = grid.as_ref().map(JsonShape::json_shape);
        return json(&serde_json::json!({ "store": ctx.store.dir(), "grid": grid }));
    }
    outln!("store ready at {}", ctx.store.dir().display())?;
    if let Some(g) = grid {
        outln!("grid {} created: {}", g.name, g.id)?;
    }
    Ok(())
}

/// Encrypts the store under a new key. The new key file is written before the store changes and
/// replaces the old one after, so a rekey cut off anywhere leaves a key that opens the store.
pub fn rekey(ctx: &Context, store: &std::path::Path) -> Result<(), CliError> {
    let (new, next_file) = key::new_key(store, &ctx.key_source)?;
    ctx.store.rekey(Some(new))?;
    if let (Some(next), KeySource::File(file)) = (next_file, &ctx.key_source) {
        key::finish_rekey(&next, file)?;
    }
    if ctx.json {
        return json(&serde_json::json!({ "rekeyed": true }));
    }
    outln!("the store is encrypted under its new key")
}

pub fn history(ctx: &Context, cmd: HistoryCmd) -> Result<(), CliError> {
    let entries = match cmd {
        HistoryCmd::Household { household } => ctx.store.household_history(ctx.household(&household)?)?,
        HistoryCmd::Resident { resident } => ctx.store.resident_history(ctx.resident(&resident)?)?,
        HistoryCmd::Access => return show(ctx.json, &ctx.store.access_log()?, |e| access_table(ctx, e)),
    };
    show(ctx.json, &entries, |e| history_table(ctx, e))
}

fn access_table(ctx: &Context, entries: &[AccessEntry]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["when", "who", "device", "action", "records", "reason"]);
    for e in entries {
        t.row(vec![
            time(e.at, tz),
            e.by.clone(),
            e.device.clone(),
            e.action.to_string(),
            e.records.len().to_string(),
            e.reason.clone(),
        ]);
    }
    t
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
