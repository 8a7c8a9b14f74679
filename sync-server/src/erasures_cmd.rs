//! `gridbook-server erasures`: the erasures whose notices the server keeps, filtered, as a table or
//! JSON.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone};
use clap::Args;
use gridbook_core::Tz;
use gridbook_core::sync::wire::ErasedKind;
use gridbook_server::Server;
use serde::Serialize;

#[derive(Args)]
pub struct ErasuresArgs {
    #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
    pub data: PathBuf,
    /// The district (default: the one the data directory was made for, else "default").
    #[arg(long)]
    pub district: Option<String>,
    /// Only erasures in this grid (its registered name or id).
    #[arg(long)]
    grid: Option<String>,
    /// From this day on (YYYY-MM-DD, in --timezone).
    #[arg(long)]
    since: Option<NaiveDate>,
    /// The district's IANA time zone, in which days are counted.
    #[arg(long, default_value = "Asia/Shanghai")]
    timezone: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One erasure as listed.
#[derive(Serialize)]
struct Listed {
    seq: u64,
    at: String,
    kind: &'static str,
    record: String,
    doc: String,
    device: String,
    reason: String,
}

pub fn run(server: &Server, args: ErasuresArgs) -> Result<(), String> {
    let timezone: Tz = args.timezone.parse().map_err(|_| format!("unknown time zone {:?}", args.timezone))?;
    let grids = match &args.grid {
        None => None,
        Some(given) => {
            let registry = server.grids().map_err(|e| e.to_string())?;
            let ids: Vec<String> =
                registry.into_iter().filter(|g| g.id == *given || g.name == *given).map(|g| g.id).collect();
            Some(if ids.is_empty() { vec![given.clone()] } else { ids })
        }
    };
    let since = match args.since {
        None => i64::MIN,
        Some(day) => timezone
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| format!("{day} has no midnight in {timezone}"))?,
    };
    let devices = server.list_devices().map_err(|e| e.to_string())?;
    let listed: Vec<Listed> = server
        .erasures()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|r| r.erasure.at >= since && grids.as_ref().is_none_or(|g| g.contains(&r.erasure.grid)))
        .map(|r| {
            let e = r.erasure;
            let at = chrono::DateTime::from_timestamp_millis(e.at).unwrap_or_default().with_timezone(&timezone);
            Listed {
                seq: r.seq,
                at: at.format("%Y-%m-%d %H:%M").to_string(),
                kind: match e.kind {
                    ErasedKind::Resident => "resident",
                    ErasedKind::Household => "household",
                },
                record: uuid::Uuid::from_bytes(e.id).to_string(),
                doc: e.doc,
                device: devices.iter().find(|d| d.id == e.by_device).map_or(e.by_device.clone(), |d| d.name.clone()),
                reason: e.reason,
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!("{:>6} {:<17} {:<10} {:<37} {:<16} {:<80} reason", "seq", "at", "kind", "record", "device", "doc");
    for l in &listed {
        println!(
            "{:>6} {:<17} {:<10} {:<37} {:<16} {:<80} {}",
            l.seq, l.at, l.kind, l.record, l.device, l.doc, l.reason
        );
    }
    Ok(())
}
