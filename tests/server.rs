//! A real district server for the tests: the `gridbook-server` library serving on a loopback port,
//! on a data directory of its own, with devices registered as the district engineer would.

use std::net::SocketAddr;
use std::path::PathBuf;

use gridbook_core::sync::wire::{self, Limits, SyncRequest, SyncResponse};
use gridbook_core::sync::{Remote, SyncOptions};
use gridbook_core::{Error, Grid, GridId};
use gridbook_server::{NewDevice, Revocation, Role, Server, ServerConfig};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The server, running; dropped, it stops.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    data: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    http: reqwest::Client,
}

impl TestServer {
    /// A fresh server on a free loopback port.
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("a data directory");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        let mut server = Self { addr, data, stop: None, task: None, http: reqwest::Client::new() };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: TcpListener) {
        let server = Server::open(self.data.path(), ServerConfig::default()).expect("the server opens its data");
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(async move {
            server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .expect("the server runs");
        }));
    }

    /// Stops the server (requests in flight finish) and starts it again on the same port and data.
    pub async fn restart(&mut self) {
        self.shutdown().await;
        let listener = TcpListener::bind(self.addr).await.expect("the same port again");
        self.serve(listener);
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server stops cleanly");
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.path().to_path_buf()
    }

    /// The server as a device with `token` reaches it.
    pub fn remote(&self, token: &str) -> Remote {
        self.remote_at(&self.url(), token)
    }

    /// The server reached at another address (a proxy in front of it).
    pub fn remote_at(&self, url: &str, token: &str) -> Remote {
        Remote::new(url, token, &SyncOptions::default()).expect("a valid address and token")
    }

    /// A second handle on the server's data, as the `gridbook-server` admin commands open it.
    pub fn admin(&self) -> Server {
        Server::open(self.data.path(), ServerConfig::default()).expect("the server's data opens")
    }

    fn add(&self, name: &str, role: Role, grids: &[GridId], village: Option<&str>, department: Option<&str>) -> String {
        self.add_held(name, "", role, grids, village, department)
    }

    fn add_held(
        &self,
        name: &str,
        holder: &str,
        role: Role,
        grids: &[GridId],
        village: Option<&str>,
        department: Option<&str>,
    ) -> String {
        let device = NewDevice {
            name: name.into(),
            holder: holder.into(),
            role,
            grids: grids.iter().map(|g| g.to_string()).collect(),
            village: village.map(Into::into),
            department: department.map(Into::into),
        };
        self.admin().add_device(device).expect("the device is registered").1
    }

    /// Registers a grid member's phone for `grids`, made on a phone and not synced yet (the server
    /// registers them in the first one's village, as the centre would); returns its token.
    pub fn grid_member(&self, name: &str, grids: &[&Grid]) -> String {
        let ids: Vec<GridId> = grids.iter().map(|g| g.id).collect();
        self.add(name, Role::GridMember, &ids, grids.first().map(|g| g.village.as_str()), None)
    }

    /// A grid member's phone given to `holder`.
    pub fn grid_member_held_by(&self, name: &str, holder: &str, grids: &[&Grid]) -> String {
        let ids: Vec<GridId> = grids.iter().map(|g| g.id).collect();
        self.add_held(name, holder, Role::GridMember, &ids, grids.first().map(|g| g.village.as_str()), None)
    }

    pub fn secretary(&self, name: &str, village: &str) -> String {
        self.add(name, Role::Secretary, &[], Some(village), None)
    }

    /// A village's secretary's computer given to `holder`.
    pub fn secretary_held_by(&self, name: &str, holder: &str, village: &str) -> String {
        self.add_held(name, holder, Role::Secretary, &[], Some(village), None)
    }

    pub fn centre(&self, name: &str) -> String {
        self.add(name, Role::Centre, &[], None, None)
    }

    pub fn department(&self, name: &str, department: &str) -> String {
        self.add(name, Role::Department, &[], None, Some(department))
    }

    /// Revokes a device, as `gridbook-server device revoke NAME --lost` or `--retired` does.
    pub fn revoke(&self, name: &str, reason: Revocation) {
        self.admin().revoke_device(name, reason).expect("the device is revoked");
    }

    /// How many changes the server holds.
    pub async fn change_count(&self) -> usize {
        self.admin().change_count().expect("the server counts its changes") as usize
    }

    /// Enrols a hand-made key for `actor` with a device's `token`, as a store does at its first
    /// sync (`POST /v1/enrol`); returns the certificate the server signed and the server's key.
    pub async fn raw_enrol(
        &self,
        token: &str,
        actor: &[u8],
        public_key: &[u8; 32],
        signature: &[u8],
    ) -> (Vec<u8>, [u8; 32]) {
        let body = serde_json::json!({
            "actor": hex::encode(actor),
            "public_key": hex::encode(public_key),
            "signature": hex::encode(signature),
        });
        let answer = reqwest::Client::new()
            .post(format!("{}/v1/enrol", self.url()))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the server answers")
            .error_for_status()
            .expect("the key is enrolled")
            .bytes()
            .await
            .expect("a body");
        let answer: serde_json::Value = serde_json::from_slice(&answer).expect("a JSON answer");
        let field = |name: &str| hex::decode(answer[name].as_str().expect("the field")).expect("hex");
        (field("certificate"), field("server_key").try_into().expect("32 bytes"))
    }

    /// Sends a hand-made sync request, as a device with `token` and `actor` would.
    pub async fn raw_sync(&self, token: &str, actor: &str, request: &SyncRequest) -> Result<SyncResponse, Error> {
        self.post(token, actor, wire::compress(&request.encode())).await
    }

    /// Sends any bytes as a sync request body, as the store of `actor` would.
    pub async fn raw_body_as(&self, token: &str, actor: &str, body: &[u8]) -> Result<SyncResponse, Error> {
        self.post(token, actor, body.to_vec()).await
    }

    /// Sends any bytes as a sync request body.
    pub async fn raw_body(&self, token: &str, body: &[u8]) -> Result<SyncResponse, Error> {
        self.post(token, "00", body.to_vec()).await
    }

    /// Declares a body of `size` bytes, sends a little of it, and returns the status and body of the
    /// answer, which must come without the rest.
    pub async fn raw_oversized(&self, token: &str, size: usize) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        let head = format!(
            "POST /v1/sync HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: {size}\r\n\r\n",
            self.addr
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(&[0; 1024]).await.expect("write");
        let mut answer = vec![0; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
            .await
            .expect("an answer without the rest of the body")
            .expect("read");
        let text = String::from_utf8_lossy(&answer[..n]).to_string();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text)
    }

    async fn post(&self, token: &str, actor: &str, body: Vec<u8>) -> Result<SyncResponse, Error> {
        let response = self
            .http
            .post(format!("{}/v1/sync", self.url()))
            .bearer_auth(token)
            .header("X-Gridbook-Actor", actor)
            .header("Content-Encoding", "gzip")
            .body(body)
            .send()
            .await
            .map_err(|e| Error::Network(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| Error::Network(e.to_string()))?;
        match status.as_u16() {
            200 => {
                let limits = Limits::default();
                let message = wire::decompress(&bytes, &limits).map_err(|e| Error::Protocol(e.to_string()))?;
                SyncResponse::decode(&message, &limits).map_err(|e| Error::Protocol(e.to_string()))
            }
            401 => Err(Error::Unauthorized(String::from_utf8_lossy(&bytes).into())),
            403 => Err(Error::Forbidden(String::from_utf8_lossy(&bytes).into())),
            s if s >= 500 => Err(Error::Server(String::from_utf8_lossy(&bytes).into())),
            _ => Err(Error::Protocol(String::from_utf8_lossy(&bytes).into())),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
