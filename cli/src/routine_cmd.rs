//! `routine` and `check`: curtain-check routines, what is due on a day, and recording sightings and
//! follow-ups.

use gridbook_core::{CheckState, Day, DueCheck, NewRoutine, Routine, RoutineEdit};

use crate::args::{CheckCmd, RoutineCmd};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Table, show, tags, time};

pub fn routine(ctx: &Context, cmd: RoutineCmd) -> Result<(), CliError> {
    match cmd {
        RoutineCmd::Add { resident, signal, deadline, days, note } => {
            let days = if days.is_empty() { Day::ALL.into_iter().collect() } else { days.into_iter().collect() };
            let r = ctx.store.add_routine(ctx.resident(&resident)?, NewRoutine { signal, deadline, days, note })?;
            show(ctx.json, &r, |r| routine_table(std::slice::from_ref(r)))
        }
        RoutineCmd::Edit { routine, signal, deadline, days, pause, resume, note } => {
            let edit = RoutineEdit {
                signal,
                deadline,
                days: (!days.is_empty()).then(|| days.into_iter().collect()),
                active: if pause {
                    Some(false)
                } else if resume {
                    Some(true)
                } else {
                    None
                },
                note,
            };
            let r = ctx.store.edit_routine(ctx.routine(&routine)?, edit)?;
            show(ctx.json, &r, |r| routine_table(std::slice::from_ref(r)))
        }
        RoutineCmd::Show { routine } => {
            let r = ctx.store.routine(ctx.routine(&routine)?)?;
            show(ctx.json, &r, |r| routine_table(std::slice::from_ref(r)))
        }
        RoutineCmd::List { resident } => {
            let list = ctx.store.routines_of(ctx.resident(&resident)?)?;
            show(ctx.json, &list, |l| routine_table(l))
        }
    }
}

fn routine_table(list: &[Routine]) -> Table {
    let mut t = Table::new(&["id", "resident", "signal", "deadline", "days", "active", "note"]);
    for r in list {
        t.row(vec![
            r.id.to_string(),
            r.resident_id.to_string(),
            r.signal.to_string(),
            r.deadline.format("%H:%M").to_string(),
            tags(&r.days),
            if r.active { "yes" } else { "paused" }.into(),
            r.note.clone(),
        ]);
    }
    t
}

pub fn check(ctx: &Context, cmd: CheckCmd) -> Result<(), CliError> {
    match cmd {
        CheckCmd::Due { grid, day } => {
            let day = day.unwrap_or_else(|| ctx.store.today());
            let due = ctx.store.due_checks(ctx.grid_opt(grid.as_deref())?, day)?;
            show(ctx.json, &due, |d| due_table(ctx, d))
        }
        CheckCmd::Seen { routine, day, at, note } => {
            let o = ctx.store.record_sighting(ctx.routine(&routine)?, day, at, &note)?;
            show(ctx.json, &o, |o| {
                Table::record(vec![
                    ("routine", o.routine_id.to_string()),
                    ("day", o.day.to_string()),
                    ("seen", "yes".into()),
                ])
            })
        }
        CheckCmd::FollowUp { routine, outcome, day, note } => {
            let o = ctx.store.record_follow_up(ctx.routine(&routine)?, day, outcome, &note)?;
            show(ctx.json, &o, |o| {
                Table::record(vec![
                    ("routine", o.routine_id.to_string()),
                    ("day", o.day.to_string()),
                    ("outcome", o.outcome.map(|x| x.to_string()).unwrap_or_default()),
                ])
            })
        }
    }
}

fn due_table(ctx: &Context, due: &[DueCheck]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["routine", "resident", "address", "signal", "deadline", "state", "detail"]);
    for d in due {
        let (state, detail) = match &d.state {
            CheckState::Waiting => ("waiting", String::new()),
            CheckState::Seen { at, by, .. } => ("seen", format!("{} by {by}", time(*at, tz))),
            CheckState::Missed => ("MISSED", "go to the door".into()),
            CheckState::FollowedUp { outcome, at, .. } => ("followed up", format!("{outcome} at {}", time(*at, tz))),
        };
        t.row(vec![
            d.routine_id.to_string(),
            d.resident_name.clone(),
            d.address.clone(),
            d.signal.to_string(),
            time(d.deadline_at, tz),
            state.into(),
            detail,
        ]);
    }
    t
}
