//! Arguments of `sync`: where the district's server is and who this device is to it.

use clap::Args;

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The district sync server, e.g. https://sync.example.gov.cn (an enrolled store knows it).
    #[arg(long, env = "GRIDBOOK_SERVER")]
    pub server: Option<String>,
    /// This device's token (from `gridbook-server device add --token`; an enrolled store has its
    /// own).
    #[arg(long, env = "GRIDBOOK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Only show the sync status, with the documents the server refused.
    #[arg(long)]
    pub status: bool,
    /// Undo what this store did to a document the server refused (as named by --status): the
    /// document goes back to what the server has of it, or goes if the server never had it.
    #[arg(long, value_name = "DOC", conflicts_with_all = ["status", "retry"])]
    pub discard: Option<String>,
    /// Send a document the server refused again at the next sync.
    #[arg(long, value_name = "DOC", conflicts_with_all = ["status", "discard"])]
    pub retry: Option<String>,
    /// Leave photos for later (sync records only).
    #[arg(long)]
    pub no_photos: bool,
}

/// Arguments of `enrol`: the server and the one-time code the centre gave.
#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The district sync server, e.g. https://sync.example.gov.cn
    #[arg(long, env = "GRIDBOOK_SERVER")]
    pub server: String,
    /// The one-time code from `gridbook-server device add` (e.g. 7KQ2M-XR4TD).
    #[arg(long)]
    pub code: String,
}
