//! What the server's tests share: a real server on a loopback port (through the library API), devices
//! registered on it, phones with real gridbook-core stores, and a sync loop written against the
//! protocol itself (prepare → POST → finish) rather than the core's HTTP client, so that these tests
//! check the server and nothing else.

#![allow(dead_code)]
// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gridbook_core::sync::wire::{self, Limits, SyncRequest, SyncResponse};
use gridbook_core::{Grid, GridId, NewEvent, NewGrid, Store, StoreConfig, Urgency};
use gridbook_server::{NewDevice, Role, Server, ServerConfig};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; dropped, it stops.
#[derive(Debug)]
pub struct Harness {
    pub server: Server,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    data: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// A refused request: its status and error kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub kind: String,
    pub message: String,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    pub async fn with_config(config: ServerConfig) -> Self {
        let data = tempfile::tempdir().unwrap();
        let server = Server::open(data.path(), config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.clone().serve(listener, async {
            let _ = stopped.await;
        }));
        Self { server, addr, http: reqwest::Client::new(), data, stop: Some(stop), task: Some(task) }
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Asks the server to stop; the returned handle resolves once requests in flight finished.
    pub fn shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap()
    }

    pub fn register(
        &self,
        name: &str,
        role: Role,
        grids: &[GridId],
        village: Option<&str>,
        dept: Option<&str>,
    ) -> String {
        let new = NewDevice {
            name: name.into(),
            role,
            grids: grids.iter().map(ToString::to_string).collect(),
            village: village.map(Into::into),
            department: dept.map(Into::into),
            holder: String::new(),
        };
        self.server.add_device(new).unwrap().1
    }

    /// A grid member for `grids`, made on a phone and not synced yet: the server registers them
    /// in the first one's village, as the centre would.
    pub fn member(&self, name: &str, grids: &[&Grid]) -> String {
        let ids: Vec<GridId> = grids.iter().map(|g| g.id).collect();
        self.register(name, Role::GridMember, &ids, grids.first().map(|g| g.village.as_str()), None)
    }

    pub fn secretary(&self, name: &str, village: &str) -> String {
        self.register(name, Role::Secretary, &[], Some(village), None)
    }

    pub fn centre(&self, name: &str) -> String {
        self.register(name, Role::Centre, &[], None, None)
    }

    pub fn department(&self, name: &str, department: &str) -> String {
        self.register(name, Role::Department, &[], None, Some(department))
    }

    pub fn changes(&self) -> u64 {
        self.server.change_count().unwrap()
    }

    /// POSTs raw bytes to /v1/sync.
    pub async fn post(&self, token: Option<&str>, actor: Option<&str>, body: Vec<u8>) -> Result<Vec<u8>, Refused> {
        let mut request = self.http.post(self.url("/v1/sync")).header("content-encoding", "gzip").body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(actor) = actor {
            request = request.header("x-gridbook-actor", actor);
        }
        answer(request.send().await.unwrap()).await
    }

    /// One exchange with a hand-made request.
    pub async fn exchange(&self, token: &str, actor: &str, request: &SyncRequest) -> Result<SyncResponse, Refused> {
        let reply = self.post(Some(token), Some(actor), wire::compress(&request.encode())).await?;
        Ok(decode_response(&reply))
    }

    /// Syncs `phone` as the device with `token` until neither side has more; returns the rounds.
    pub async fn sync(&self, token: &str, phone: &Phone) -> Result<usize, Refused> {
        for round in 1..=1000 {
            let prepared = phone.store.prepare_sync(1 << 20).unwrap();
            let response = self.exchange(token, &phone.store.actor(), &prepared.request).await?;
            if !phone.store.finish_sync(&prepared, response).unwrap().again {
                return Ok(round);
            }
        }
        panic!("the sync never ended");
    }

    pub async fn metrics(&self) -> String {
        self.http.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The body of a 200, or the refusal with its JSON error.
pub async fn answer(response: reqwest::Response) -> Result<Vec<u8>, Refused> {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap().to_vec();
    if status == 200 {
        return Ok(body);
    }
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("a JSON error for {status}"));
    let kind = json["error"]["kind"].as_str().unwrap().to_string();
    let message = json["error"]["message"].as_str().unwrap().to_string();
    Err(Refused { status, kind, message })
}

pub fn decode_response(reply: &[u8]) -> SyncResponse {
    let limits = Limits::default();
    SyncResponse::decode(&wire::decompress(reply, &limits).unwrap(), &limits).unwrap()
}

/// A phone or PC with its own store.
#[derive(Debug)]
pub struct Phone {
    pub store: Store,
    _dir: TempDir,
}

impl Phone {
    pub fn new(user: &str, device: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreConfig::new(user, device)).unwrap();
        Self { store, _dir: dir }
    }

    /// The request this phone would send next: its outbox and its cursor.
    pub fn outbox(&self) -> SyncRequest {
        self.store.prepare_sync(usize::MAX).unwrap().request
    }
}

pub fn grid(name: &str, village: &str) -> NewGrid {
    NewGrid { name: name.into(), village: village.into(), township: "城关街道".into() }
}

pub fn event(title: &str) -> NewEvent {
    NewEvent {
        category: "市政设施".into(),
        title: title.into(),
        description: String::new(),
        location: None,
        household_id: None,
        urgency: Urgency::Routine,
    }
}

/// A small JPEG, a gradient so that it is a photo rather than a blank.
pub fn jpeg(dir: &Path, name: &str) -> PathBuf {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) & 0xff) as u8])
    });
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

/// Names of the documents in a response.
pub fn doc_names(response: &SyncResponse) -> Vec<String> {
    response.docs.iter().map(|d| d.doc.clone()).collect()
}
