//! Arguments of `sync`: where the district's server is and who this device is to it.

use clap::Args;

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The district sync server, e.g. https://sync.example.gov.cn
    #[arg(long, env = "GRIDBOOK_SERVER")]
    pub server: Option<String>,
    /// This device's token (from `gridbook-server device add`).
    #[arg(long, env = "GRIDBOOK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Only show the sync status.
    #[arg(long)]
    pub status: bool,
    /// Leave photos for later (sync records only).
    #[arg(long)]
    pub no_photos: bool,
}
