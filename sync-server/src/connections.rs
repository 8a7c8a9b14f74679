//! The accept loop. `axum::serve` waits forever for a request's header and takes every connection
//! offered, so a client that opens sockets and sends half a header (or nothing) holds them for
//! good. This loop serves the same router with hyper directly: a connection must deliver its first
//! request's header within the header timeout (and each later one, hyper's own timer), and at most
//! `max_connections` are open at once; past that, new ones wait in the kernel's backlog.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How long a connection may stay open before its first request's header is read, and how many
/// may be open at once.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves; connections with a request in flight
/// are then let finish it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Dropping `stop` tells every connection to finish; `done` closes when the last one has.
    let (stop, stopping) = watch::channel(());
    let (done_tx, done) = watch::channel(());
    let slots = Arc::new(Semaphore::new(bounds.max_connections.max(1)));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(bounds.header_read_timeout);
    // An HTTP/2 peer that stops answering pings is gone: its connection is closed.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(bounds.header_read_timeout)
        .keep_alive_timeout(bounds.header_read_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
        };
        let (builder, router, stopping, done) = (builder.clone(), router.clone(), stopping.clone(), done.clone());
        tokio::spawn(async move {
            connection(&builder, stream, router, stopping, bounds.header_read_timeout).await;
            drop((slot, done));
        });
    }
    drop(listener);
    drop(stop);
    drop(done);
    done_tx.closed().await;
    Ok(())
}

/// One connection, until it closes, fails, misses its first header's deadline or is told to stop.
async fn connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    router: Router,
    mut stopping: watch::Receiver<()>,
    first_header: Duration,
) {
    let started = Arc::new(AtomicBool::new(false));
    let seen = started.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        seen.store(true, Ordering::Relaxed);
        router.clone().oneshot(request.map(Body::new))
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // hyper's header timer starts only once it knows the protocol; a peer that sends nothing (or
    // less than the HTTP/2 preface) never gets that far, so the first deadline is kept here.
    let deadline = tokio::time::sleep(first_header);
    tokio::pin!(deadline);
    let mut watching = true;
    let mut stop_asked = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            () = &mut deadline, if watching => {
                if !started.load(Ordering::Relaxed) {
                    tracing::debug!("connection closed: no request header in time");
                    return;
                }
                watching = false;
            }
            _ = stopping.changed(), if !stop_asked => {
                stop_asked = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Accepting fails for a connection reset before it was taken (nothing to do) or for the process
/// being out of file descriptors (wait for some to close rather than spin).
async fn pause_after(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
