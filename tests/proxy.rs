//! A TCP proxy that cuts connections at chosen points, to prove that a sync cut off anywhere —
//! before the request, during the upload, after the server committed but before the reply —
//! loses and duplicates nothing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where to cut: after this many bytes have gone up (device → server) or come down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    Up(u64),
    Down(u64),
}

/// The proxy; the next cut applies once, to the traffic of all connections together, then it
/// passes everything.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    plan: Arc<Mutex<Plan>>,
}

#[derive(Debug, Default)]
struct Plan {
    cut: Option<Cut>,
    up: u64,
    down: u64,
    cuts_made: usize,
}

impl Proxy {
    /// Starts a proxy on a loopback port in front of `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        let plan = Arc::new(Mutex::new(Plan::default()));
        let shared = plan.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let plan = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, plan).await;
                    }
                });
            }
        });
        Self { addr, plan }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Arms a cut; the byte counts start again from zero.
    pub fn cut(&self, cut: Cut) {
        let mut plan = self.plan.lock().expect("plan");
        *plan = Plan { cut: Some(cut), cuts_made: plan.cuts_made, ..Plan::default() };
    }

    /// Bytes up and down since the last `cut`, and whether it fired.
    pub fn traffic(&self) -> (u64, u64, bool) {
        let plan = self.plan.lock().expect("plan");
        (plan.up, plan.down, plan.cut.is_none() && plan.cuts_made > 0)
    }

    pub fn cuts_made(&self) -> usize {
        self.plan.lock().expect("plan").cuts_made
    }
}

async fn pipe(client: TcpStream, server: TcpStream, plan: Arc<Mutex<Plan>>) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let up_plan = plan.clone();
    let up = async move {
        let mut buf = vec![0; 4096];
        loop {
            let n = match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let allowed = allow(&up_plan, n as u64, true);
            if server_tx.write_all(&buf[..allowed as usize]).await.is_err() || allowed < n as u64 {
                return;
            }
        }
    };
    let down = async move {
        let mut buf = vec![0; 4096];
        loop {
            let n = match server_rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let allowed = allow(&plan, n as u64, false);
            if client_tx.write_all(&buf[..allowed as usize]).await.is_err() || allowed < n as u64 {
                return;
            }
        }
    };
    // When either direction is cut, both sockets close with it.
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// How many of `n` bytes may pass; fires the cut when its point is reached.
fn allow(plan: &Mutex<Plan>, n: u64, upward: bool) -> u64 {
    let mut plan = plan.lock().expect("plan");
    let (sent, limit) = match (plan.cut, upward) {
        (Some(Cut::Up(at)), true) => (plan.up, Some(at)),
        (Some(Cut::Down(at)), false) => (plan.down, Some(at)),
        _ => (if upward { plan.up } else { plan.down }, None),
    };
    let allowed = limit.map_or(n, |at| n.min(at.saturating_sub(sent)));
    if limit.is_some() && allowed < n {
        plan.cut = None;
        plan.cuts_made += 1;
    }
    if upward {
        plan.up += allowed;
    } else {
        plan.down += allowed;
    }
    allowed
}
