//! `demo`: a realistic village in an empty store, to try the commands on.

use gridbook_core::demo::{self, VillageSpec};

use crate::args::DemoArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{json, outln};

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
    outln!(
        "a village in {}: {} grids, {} households, {} residents, {} curtain-check routines with {} checks, {} visits, {} events",
        ctx.store.dir().display(),
        summary.grids.len(),
        summary.households,
        summary.residents,
        summary.routines,
        summary.checks,
        summary.visits,
        summary.events
    )?;
    for g in &summary.grids {
        outln!("grid {g}")?;
    }
    Ok(())
}
