//! `visit`: recording visits, a household's visits, a grid's coverage and each household's last visit.

use gridbook_core::{LastVisit, NewVisit, Visit};

use crate::args::VisitCmd;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Table, opt, show, time};

pub fn visit(ctx: &Context, cmd: VisitCmd) -> Result<(), CliError> {
    match cmd {
        VisitCmd::Add { household, kind, at, purposes, notes, satisfaction } => {
            let v = ctx
                .store
                .record_visit(ctx.household(&household)?, NewVisit { kind, at, purposes, notes, satisfaction })?;
            show(ctx.json, &v, |v| visit_table(ctx, std::slice::from_ref(v)))
        }
        VisitCmd::List { household, resident } => {
            let list = match (household, resident) {
                (Some(household), _) => ctx.store.visits_of(ctx.household(&household)?)?,
                (None, Some(resident)) => ctx.store.visits_of_resident(ctx.resident(&resident)?)?,
                (None, None) => return Err(CliError::Usage("give --household or --resident".into())),
            };
            show(ctx.json, &list, |l| visit_table(ctx, l))
        }
        VisitCmd::Coverage { grid, from, to } => {
            let c = ctx.store.coverage(ctx.grid(&grid)?, from, to)?;
            show(ctx.json, &c, |c| {
                Table::record(vec![
                    ("from", c.from.to_string()),
                    ("to", c.to.to_string()),
                    ("households", c.households.to_string()),
                    ("visited", c.visited.to_string()),
                    ("coverage", format!("{:.1}%", c.ratio() * 100.0)),
                ])
            })
        }
        VisitCmd::Last { grid } => {
            let list = ctx.store.last_visits(ctx.grid(&grid)?)?;
            show(ctx.json, &list, |l| last_table(ctx, l))
        }
    }
}

fn visit_table(ctx: &Context, list: &[Visit]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["id", "at", "kind", "by", "purposes", "notes", "satisfaction"]);
    for v in list {
        t.row(vec![
            v.id.to_string(),
            time(v.at, tz),
            v.kind.to_string(),
            v.by.clone(),
            v.purposes.join(","),
            v.notes.clone(),
            opt(&v.satisfaction),
        ]);
    }
    t
}

fn last_table(ctx: &Context, list: &[LastVisit]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["household", "address", "last visit", "kind"]);
    for l in list {
        let at = l.last_visit_at.map(|a| time(a, tz)).unwrap_or_else(|| "never".into());
        t.row(vec![l.household_id.to_string(), l.address.clone(), at, opt(&l.last_visit_kind)]);
    }
    t
}
