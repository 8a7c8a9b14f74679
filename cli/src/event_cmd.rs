//! `event`: reporting events, taking their steps, attaching photos, and the open and overdue lists.

use gridbook_core::{Evaluation, Event, Location, NewEvent, StepAction, Urgency};

use std::path::Path;

use gridbook_core::sync::SyncOptions;

use crate::args::{EventCmd, PhotoCmd};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Table, json, opt, outln, show, time};
use crate::sync_cmd;

pub fn event(ctx: &Context, cmd: EventCmd) -> Result<(), CliError> {
    match cmd {
        EventCmd::Report { grid, category, title, description, lat, lon, accuracy, household, urgent } => {
            let location = lat.zip(lon).map(|(lat, lon)| Location { lat, lon, accuracy_m: accuracy });
            let new = NewEvent {
                category,
                title,
                description,
                location,
                household_id: household.map(|h| ctx.household(&h)).transpose()?,
                urgency: if urgent { Urgency::Urgent } else { Urgency::Routine },
            };
            let e = ctx.store.report_event(ctx.grid(&grid)?, new)?;
            show(ctx.json, &e, |e| event_record(ctx, e))
        }
        EventCmd::Step { event, action, department, ratings, comment, note } => {
            let action = step(&action, department, &ratings, comment)?;
            let e = ctx.store.event_step(ctx.event(&event)?, action, &note)?;
            show(ctx.json, &e, |e| event_record(ctx, e))
        }
        EventCmd::Photo { get: Some(PhotoCmd::Get { event, out, server, token }), .. } => {
            fetch_photos(ctx, &event, out.as_deref(), server, token)
        }
        EventCmd::Photo { get: None, event: Some(event), file: Some(file), taken_at } => {
            let p = ctx.store.attach_photo(ctx.event(&event)?, &file, taken_at, None)?;
            show(ctx.json, &p, |p| {
                Table::record(vec![
                    ("sha256", p.sha256.clone()),
                    ("size", format!("{}×{}, {} KB", p.width, p.height, p.bytes / 1024)),
                ])
            })
        }
        // clap requires both when there is no `get`; a typed error all the same.
        EventCmd::Photo { .. } => Err(CliError::Usage("give EVENT and FILE to attach, or `get EVENT`".into())),
        EventCmd::Show { event } => show(ctx.json, &ctx.store.event(ctx.event(&event)?)?, |e| event_record(ctx, e)),
        EventCmd::List { grid, state, overdue } => {
            let grid = ctx.grid_opt(grid.as_deref())?;
            let list = if overdue { ctx.store.overdue_events(grid)? } else { ctx.store.open_events(grid, state)? };
            show(ctx.json, &list, |l| event_table(ctx, l))
        }
        EventCmd::Overdue { grid } => {
            let list = ctx.store.overdue_events(ctx.grid_opt(grid.as_deref())?)?;
            show(ctx.json, &list, |l| event_table(ctx, l))
        }
    }
}

fn step(action: &str, department: Option<String>, ratings: &[u8], comment: String) -> Result<StepAction, CliError> {
    Ok(match action.trim().replace('_', "-").as_str() {
        "solve-on-spot" => StepAction::SolveOnSpot,
        "dispatch" => StepAction::Dispatch {
            department: department.ok_or_else(|| CliError::Usage("dispatch needs --department".into()))?,
        },
        "accept" => StepAction::Accept,
        "send-back" => StepAction::SendBack,
        "resolve" => StepAction::Resolve,
        "escalate" => StepAction::Escalate,
        "evaluate" => {
            let [response_speed, performance, completion, feedback] = ratings else {
                return Err(CliError::Usage(
                    "evaluate needs --ratings SPEED,PERFORMANCE,COMPLETION,FEEDBACK (1–5)".into(),
                ));
            };
            StepAction::Evaluate(Evaluation {
                response_speed: *response_speed,
                performance: *performance,
                completion: *completion,
                feedback: *feedback,
                comment,
            })
        }
        "close" => StepAction::Close,
        other => return Err(CliError::Usage(format!("unknown step {other:?}"))),
    })
}

fn event_record(ctx: &Context, e: &Event) -> Table {
    let tz = ctx.store.config().timezone;
    let mut fields = vec![
        ("id", e.id.to_string()),
        ("title", e.title.clone()),
        ("category", e.category.clone()),
        ("state", e.state.to_string()),
        ("level", e.level.to_string()),
        ("department", opt(&e.department)),
        ("urgency", e.urgency.to_string()),
        ("reported", format!("{} by {}", time(e.reported_at, tz), e.reported_by)),
        ("deadline", format!("{}{}", time(e.deadline_at, tz), if e.overdue { " (OVERDUE)" } else { "" })),
        ("photos", e.photos.iter().map(|p| p.sha256[..12].to_string()).collect::<Vec<_>>().join(",")),
    ];
    for s in &e.steps {
        fields.push(("step", format!("{} {} by {} {}", time(s.at, tz), s.action.name(), s.by, s.note)));
    }
    Table::record(fields)
}

fn event_table(ctx: &Context, list: &[Event]) -> Table {
    let tz = ctx.store.config().timezone;
    let mut t = Table::new(&["id", "reported", "title", "state", "department", "deadline", "overdue"]);
    for e in list {
        t.row(vec![
            e.id.to_string(),
            time(e.reported_at, tz),
            e.title.clone(),
            e.state.to_string(),
            opt(&e.department),
            time(e.deadline_at, tz),
            if e.overdue { "OVERDUE" } else { "" }.into(),
        ]);
    }
    t
}

/// `event photo get`: each photo of the event, fetched from the server if this store lacks it (the
/// core checks its hash), written as a JPEG file into `out` (the current directory if not given):
/// in an encrypted store the photo files are sealed, so this is how a person gets one to look at.
fn fetch_photos(
    ctx: &Context,
    event: &str,
    out: Option<&Path>,
    server: Option<String>,
    token: Option<String>,
) -> Result<(), CliError> {
    let event = ctx.store.event(ctx.event(event)?)?;
    let options = SyncOptions::default();
    let runtime = sync_cmd::runtime()?;
    // Only a photo this store lacks needs the server: the remote is made for the first one.
    let (mut server, mut token, mut remote) = (server, token, None);
    let mut fetched = Vec::with_capacity(event.photos.len());
    let dir = out.unwrap_or(Path::new("."));
    for photo in &event.photos {
        let bytes = match ctx.store.photo(&photo.sha256)? {
            Some(bytes) => bytes,
            None => {
                let here = match remote.take() {
                    Some(here) => here,
                    None => sync_cmd::remote(ctx, server.take(), token.take(), &options)?,
                };
                let bytes = runtime.block_on(ctx.store.fetch_photo(&here, &photo.sha256))?;
                remote = Some(here);
                bytes
            }
        };
        std::fs::create_dir_all(dir).map_err(|e| CliError::File(format!("{}: {e}", dir.display())))?;
        let path = dir.join(format!("{}.jpg", photo.sha256));
        std::fs::write(&path, bytes).map_err(|e| CliError::File(format!("{}: {e}", path.display())))?;
        fetched.push((photo.sha256.clone(), path));
    }
    if ctx.json {
        let list: Vec<_> =
            fetched.iter().map(|(sha, path)| serde_json::json!({ "sha256": sha, "path": path })).collect();
        return json(&list);
    }
    if fetched.is_empty() {
        return outln!("this event has no photos");
    }
    let mut table = Table::new(&["sha256", "file"]);
    for (sha, path) in fetched {
        table.row(vec![sha, path.display().to_string()]);
    }
    table.print()
}
