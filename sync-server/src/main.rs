//! `gridbook-server`: serve the district's devices; register them (each with a one-time code to
//! enrol with), list and revoke them; keep the district's grid registry; list its access log and
//! its erasures.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal;

mod audit_cmd;
mod erasures_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use gridbook_core::StoreKey;
use gridbook_core::sync::wire::Version;
use gridbook_server::{CODE_LIFETIME_MS, Device, NewDevice, NewGrid, Revocation, Role, Server, ServerConfig};

/// The Gridbook district sync server.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The database's key file (32 bytes, or 64 hex digits), made if it does not exist: keep a copy
    /// apart from the data, without it nothing in the database can be read. A plaintext database
    /// is encrypted the first time it is opened with a key.
    #[arg(long, global = true, env = "GRIDBOOK_SERVER_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// The master key file (32 bytes, or 64 hex digits) that records' data keys are wrapped under
    /// in the database; made (readable by its owner only) if it does not exist. Default:
    /// `master.key` in the data directory. Keep it apart from the database's backups: without it
    /// the data keys the server holds cannot be handed out again.
    #[arg(long, global = true, env = "GRIDBOOK_SERVER_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve devices until SIGTERM or Ctrl-C; requests in flight finish first.
    Serve {
        /// Data directory: server.sqlite3 and photos/.
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        /// Address to listen on; port 0 picks a free one (the line `listening on ADDR` says which).
        #[arg(long, default_value = "127.0.0.1:8750")]
        listen: String,
        /// The district served (fixed when the data directory is first used).
        #[arg(long, default_value = "default")]
        district: String,
        /// The oldest sync version served (3 to 9). Apps speaking an older one are told to update
        /// (`426`); raise it once every app in the district has been updated (from 6, every
        /// change a device uploads is signed by its enrolled key).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(3..=9))]
        oldest_wire: u8,
        /// Days an erasure's notice is kept for the stores to carry out; a store that has not synced
        /// for longer starts over from the server's copy.
        #[arg(long, default_value_t = 180)]
        erasure_notice_days: u32,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Register, list and revoke devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The district's grid registry: which village each grid belongs to.
    Grid {
        #[command(subcommand)]
        command: GridCommand,
    },
    /// The access log: who revealed which full ID numbers and phones, when and why, named by the
    /// enrolled device that wrote each entry.
    Audit(audit_cmd::AuditArgs),
    /// The erasures carried out whose notices are kept: what was erased, when, by which enrolled
    /// device and why.
    Erasures(erasures_cmd::ErasuresArgs),
}

#[derive(Subcommand)]
enum GridCommand {
    /// Register a grid of a village; devices whose scope covers it receive it at their next sync.
    /// It stays in that village for good.
    Add {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        /// The district (default: the one the data directory was made for, else "default").
        #[arg(long)]
        district: Option<String>,
        /// The grid's name, unique in its village.
        name: String,
        /// The village or community it belongs to; its secretary sees it.
        #[arg(long)]
        village: String,
        /// The township or street above the village.
        #[arg(long, default_value = "")]
        township: String,
    },
    /// List the registered grids, by village.
    List {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        #[arg(long)]
        district: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Register a device and print the one-time code it enrols with (valid 24 hours).
    Add {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        /// The district (default: the one the data directory was made for, else "default").
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A grid it serves, by its registered name or its id (repeat for several).
        #[arg(long = "grid")]
        grids: Vec<String>,
        /// A secretary's village: every grid of it.
        #[arg(long)]
        village: Option<String>,
        /// A department device's department, as events are dispatched to it.
        #[arg(long)]
        department: Option<String>,
        /// The person the device is given to, as its certificate names them.
        #[arg(long)]
        holder: Option<String>,
        /// Print a token to enter by hand instead of a code, for apps of the previous version and
        /// for tools (shown once).
        #[arg(long, conflicts_with = "server_url")]
        token: bool,
        /// The server's address as devices reach it, for the enrol command printed.
        #[arg(long)]
        server_url: Option<String>,
    },
    /// Print a fresh one-time code for a registered device (a replaced phone): it replaces the
    /// device's unused code, and enrolling with it replaces the device's token.
    Code {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        #[arg(long)]
        district: Option<String>,
        name_or_id: String,
        /// The server's address as devices reach it, for the enrol command printed.
        #[arg(long)]
        server_url: Option<String>,
    },
    /// List registered devices.
    List {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        #[arg(long)]
        district: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device by name or id, and have its stores wiped. Say why: the data on it depends
    /// on it. A phone replaced while its holder stays gets a new code instead (`device code`).
    #[command(group = clap::ArgGroup::new("reason").required(true))]
    Revoke {
        #[arg(long, env = "GRIDBOOK_SERVER_DATA")]
        data: PathBuf,
        #[arg(long)]
        district: Option<String>,
        name_or_id: String,
        /// Lost or stolen: refused from its next request on, which wipes it; what it has not sent
        /// is lost.
        #[arg(long, group = "reason")]
        lost: bool,
        /// Its holder left: it uploads what it has not sent, receives nothing new, then wipes.
        #[arg(long, group = "reason")]
        retired: bool,
    },
}

/// What the server holds at most, whatever clients do; each defaults to `ServerConfig`'s value.
#[derive(Debug, clap::Args)]
struct LimitArgs {
    /// Request bodies held at once, in MiB, as declared before they are read; past it, `503` with
    /// `Retry-After` [default: 256].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    request_budget_mib: Option<u32>,
    /// Memory for requests being worked on at once, in MiB; past it, requests wait their turn
    /// [default: 256].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    work_budget_mib: Option<u32>,
    /// Requests of one device at once; more is `429` [default: 4].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    device_concurrency: Option<u32>,
    /// Connections open at once; more wait to be accepted [default: 4096].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// Seconds a client has to send a request's header [default: 20].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    header_timeout_secs: Option<u32>,
    /// Seconds a request's body has to arrive once its header has [default: 120].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    body_timeout_secs: Option<u32>,
}

impl LimitArgs {
    /// `config` with the limits given on the command line.
    fn apply(&self, mut config: ServerConfig) -> ServerConfig {
        let mib = |n: u32| (n as usize) << 20;
        let secs = |n: u32| std::time::Duration::from_secs(u64::from(n));
        if let Some(n) = self.request_budget_mib {
            config.request_budget_bytes = mib(n);
        }
        if let Some(n) = self.work_budget_mib {
            config.work_budget_bytes = mib(n);
        }
        if let Some(n) = self.device_concurrency {
            config.device_concurrency = n as usize;
        }
        if let Some(n) = self.max_connections {
            config.max_connections = n as usize;
        }
        if let Some(n) = self.header_timeout_secs {
            config.header_read_timeout = secs(n);
        }
        if let Some(n) = self.body_timeout_secs {
            config.body_read_timeout = secs(n);
        }
        config
    }
}

/// A device's role as the command line spells it. The storage layer's [`Role`] knows nothing of
/// the command line; this is where its spellings are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// Its own grids.
    GridMember,
    /// Every grid of its village (and any grids listed).
    Secretary,
    /// The whole district.
    Centre,
    /// The events dispatched to its department, never the ledger behind them.
    Department,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::GridMember => Role::GridMember,
            RoleArg::Secretary => Role::Secretary,
            RoleArg::Centre => Role::Centre,
            RoleArg::Department => Role::Department,
        }
    }
}

/// The database's key and the master key's file, as the command line gives them.
struct Keys {
    database: Option<StoreKey>,
    master_file: Option<PathBuf>,
}

fn open(data: &std::path::Path, district: String, key: Keys) -> Result<Server, String> {
    let config =
        ServerConfig { district, key: key.database, master_key_file: key.master_file, ..ServerConfig::default() };
    Server::open(data, config).map_err(|e| e.to_string())
}

/// The database's key from `--key-file`, made (readable by its owner only) if the file is missing.
fn database_key(file: Option<&std::path::Path>) -> Result<Option<StoreKey>, String> {
    let Some(file) = file else { return Ok(None) };
    match std::fs::read(file) {
        Ok(bytes) => StoreKey::from_file_contents(&bytes).map(Some).map_err(|e| format!("{}: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = StoreKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(file).and_then(|mut f| {
                std::io::Write::write_all(&mut f, zeroize::Zeroizing::new(hex::encode(key.as_bytes())).as_bytes())?;
                f.sync_all()
            });
            written.map_err(|e| format!("cannot make the key file {}: {e}", file.display()))?;
            eprintln!("made a new database key in {}: keep a copy apart from the data", file.display());
            Ok(Some(key))
        }
        Err(e) => Err(format!("cannot read the key file {}: {e}", file.display())),
    }
}

/// The admin commands' server: the district given, or the one the directory was made for.
fn open_admin(data: &std::path::Path, district: Option<String>, key: Keys) -> Result<Server, String> {
    let district = match district {
        Some(d) => d,
        None => Server::stored_district(data, key.database.as_ref())
            .map_err(|e| e.to_string())?
            .unwrap_or_else(|| "default".into()),
    };
    open(data, district, key)
}

async fn run(cli: Cli) -> Result<(), String> {
    let key = Keys { database: database_key(cli.key_file.as_deref())?, master_file: cli.master_key_file };
    match cli.command {
        Command::Serve { data, listen, district, oldest_wire, erasure_notice_days, limits } => {
            let oldest_wire = Version::from_number(oldest_wire).ok_or("--oldest-wire is 3 to 9")?;
            let config = limits.apply(ServerConfig {
                district,
                oldest_wire,
                key: key.database,
                master_key_file: key.master_file,
                erasure_notice_days,
                ..ServerConfig::default()
            });
            let server = Server::open(&data, config).map_err(|e| e.to_string())?;
            let listener =
                tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            // Before the address is announced: a SIGTERM from then on stops the server gracefully.
            let shutdown = shutdown_signal();
            println!("listening on {addr}");
            tracing::info!(%addr, "serving");
            server.serve(listener, shutdown).await.map_err(|e| e.to_string())?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Device { command } => device(command, key),
        Command::Grid { command } => grid(command, key),
        Command::Audit(args) => {
            let server = open_admin(&args.data, args.district.clone(), key)?;
            audit_cmd::run(&server, args)
        }
        Command::Erasures(args) => {
            let server = open_admin(&args.data, args.district.clone(), key)?;
            erasures_cmd::run(&server, args)
        }
    }
}

fn grid(command: GridCommand, key: Keys) -> Result<(), String> {
    match command {
        GridCommand::Add { data, district, name, village, township } => {
            let server = open_admin(&data, district, key)?;
            let grid = server.add_grid(NewGrid { name, village, township }).map_err(|e| e.to_string())?;
            println!("registered grid {} of {} ({})", grid.name, grid.village, grid.id);
            Ok(())
        }
        GridCommand::List { data, district, json } => {
            let grids = open_admin(&data, district, key)?.grids().map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&grids).map_err(|e| e.to_string())?);
                return Ok(());
            }
            println!("{:<16} {:<24} {:<36} registered by", "village", "grid", "id");
            for g in grids {
                println!("{:<16} {:<24} {:<36} {}", g.village, g.name, g.id, g.registered_by);
            }
            Ok(())
        }
    }
}

fn device(command: DeviceCommand, key: Keys) -> Result<(), String> {
    match command {
        DeviceCommand::Add { data, district, name, role, grids, village, department, holder, token, server_url } => {
            let server = open_admin(&data, district, key)?;
            let holder = holder.unwrap_or_default();
            let new = NewDevice { name, role: role.into(), grids, village, department, holder };
            let registered = if token { server.add_device(new) } else { server.add_device_with_code(new) };
            let (device, secret) = registered.map_err(|e| e.to_string())?;
            print_registered(&server, &device)?;
            if token {
                println!("token: {secret}");
                println!("This token is shown only this once and cannot be shown again; enter it on the device now.");
            } else {
                print_code(&secret, server_url.as_deref());
            }
            Ok(())
        }
        DeviceCommand::Code { data, district, name_or_id, server_url } => {
            let code = open_admin(&data, district, key)?.new_code(&name_or_id).map_err(|e| e.to_string())?;
            print_code(&code, server_url.as_deref());
            Ok(())
        }
        DeviceCommand::List { data, district, json } => {
            let server = open_admin(&data, district, key)?;
            let devices = server.list_devices().map_err(|e| e.to_string())?;
            let keys = server.enrolled_keys().map_err(|e| e.to_string())?;
            let keys_of = |d: &Device| keys.get(&d.id).copied().unwrap_or(0);
            if json {
                let listed: Vec<Listed<'_>> = devices.iter().map(|d| Listed { device: d, keys: keys_of(d) }).collect();
                println!("{}", serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?);
                return Ok(());
            }
            println!("{:<24} {:<12} {:<9} {:<12} {:<4} {:<36} scope", "name", "role", "status", "holder", "keys", "id");
            for d in &devices {
                let scope = match d.role {
                    Role::GridMember => d.grids.join(","),
                    Role::Secretary => d.village.clone().unwrap_or_default(),
                    Role::Centre => "district".into(),
                    Role::Department => d.department.clone().unwrap_or_default(),
                };
                let status = match (d.revoked_at, d.revoked_as) {
                    (None, _) => "active",
                    (Some(_), Some(reason)) => reason.as_str(),
                    (Some(_), None) => "revoked",
                };
                let (name, role, holder, keys) = (&d.name, d.role.as_str(), &d.holder, keys_of(d));
                println!("{name:<24} {role:<12} {status:<9} {holder:<12} {keys:<4} {:<36} {scope}", d.id);
            }
            Ok(())
        }
        DeviceCommand::Revoke { data, district, name_or_id, lost, .. } => {
            let reason = if lost { Revocation::Lost } else { Revocation::Retired };
            open_admin(&data, district, key)?.revoke_device(&name_or_id, reason).map_err(|e| e.to_string())?;
            match reason {
                Revocation::Lost => println!("revoked {name_or_id} as lost: it is wiped at its next contact"),
                Revocation::Retired => {
                    println!("revoked {name_or_id} as retired: it uploads what it has not sent, then wipes")
                }
            }
            Ok(())
        }
    }
}

/// A device as `device list --json` shows it: with how many of its stores have enrolled a key.
#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    device: &'a Device,
    keys: u64,
}

/// What was registered, and which grid each name given resolved to: a name is the grid's writers'
/// to change, so the engineer sees which grid it named.
fn print_registered(server: &Server, device: &Device) -> Result<(), String> {
    let held = if device.holder.is_empty() { String::new() } else { format!(", held by {}", device.holder) };
    println!("registered {} ({}) as {}{held}", device.name, device.id, device.role.as_str());
    let registry = server.grids().map_err(|e| e.to_string())?;
    for grid in registry.iter().filter(|g| device.grids.contains(&g.id)) {
        println!("serves grid {} of {} ({})", grid.name, grid.village, grid.id);
    }
    Ok(())
}

/// A one-time code, when it expires, and the one command the device runs with it.
fn print_code(code: &str, server_url: Option<&str>) {
    let expires = chrono::Local::now() + chrono::Duration::milliseconds(CODE_LIFETIME_MS);
    println!("one-time code: {code}");
    println!("It enrols the device once, until {}.", expires.format("%Y-%m-%d %H:%M %:z"));
    println!("On the device, run:");
    println!("  gridbook enrol --server {} --code {code}", server_url.unwrap_or("<server address>"));
}

/// Resolves on SIGTERM or Ctrl-C. The SIGTERM handler is installed when this is called, not when
/// the future is first polled: the server polls it on a task of its own, which may start after a
/// SIGTERM has already arrived and, unhandled, killed the process without a graceful stop.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {}
            () = term => {}
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only where a person reads them: a log redirected to a file or a journal
        // would carry them as noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line and the stored role spell every role alike, so a role given as `--role` is
    /// listed under the same name.
    #[test]
    fn the_command_line_spells_each_role_as_storage_does() {
        for arg in RoleArg::value_variants() {
            let name = arg.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(name.as_deref(), Some(Role::from(*arg).as_str()));
        }
        assert_eq!(RoleArg::value_variants().len(), Role::ALL.len());
    }
}
