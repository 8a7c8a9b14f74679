//! `gridbook-server audit`: the district's access log, filtered, as a table or JSON.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use gridbook_server::Server;
use gridbook_server::access_log::{AuditEntry, AuditFilter};

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
    pub data: PathBuf,
    /// The district (default: the one the data directory was made for, else "default").
    #[arg(long)]
    pub district: Option<String>,
    /// Only reveals made on this enrolled device (its name or id).
    #[arg(long)]
    device: Option<String>,
    /// Only reveals in this grid (its registered name or id).
    #[arg(long)]
    grid: Option<String>,
    /// Only reveals naming this resident (or household) id.
    #[arg(long)]
    resident: Option<String>,
    /// From this day on (YYYY-MM-DD, in --timezone).
    #[arg(long)]
    since: Option<NaiveDate>,
    /// Up to and including this day (YYYY-MM-DD, in --timezone).
    #[arg(long)]
    until: Option<NaiveDate>,
    /// The district's IANA time zone, in which days are counted.
    #[arg(long, default_value = "Asia/Shanghai")]
    timezone: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(server: &Server, args: AuditArgs) -> Result<(), String> {
    let timezone = args.timezone.parse().map_err(|_| format!("unknown time zone {:?}", args.timezone))?;
    let filter = AuditFilter {
        device: args.device,
        grid: args.grid,
        resident: args.resident,
        since: args.since,
        until: args.until,
        timezone,
    };
    let entries = server.audit(&filter).map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!("{:<17} {:<16} {:<10} {:<16} {:<16} {:>7}  reason", "at", "device", "holder", "grid", "action", "records");
    for e in &entries {
        println!(
            "{:<17} {:<16} {:<10} {:<16} {:<16} {:>7}  {}",
            e.at.with_timezone(&timezone).format("%Y-%m-%d %H:%M"),
            e.device,
            e.holder,
            grid_name(e),
            e.action,
            e.records.len(),
            e.reason
        );
    }
    Ok(())
}

fn grid_name(e: &AuditEntry) -> &str {
    if e.grid.is_empty() { &e.grid_id } else { &e.grid }
}
