//! `pixflow serve`: the app on a TCP socket, stopping cleanly on Ctrl-C. Slow and idle clients
//! cannot hold it: a request's headers must arrive within the header-read timeout, a connection
//! with no request in flight is closed after the idle timeout, and at most `max_connections` are
//! open at once (further ones wait in the kernel's accept queue, as Go's `LimitListener` does).

use crate::http::{app, AppState};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Serves `state` on `addr` until Ctrl-C.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "pixflow listening on http://{} (source: {}, result store: {})",
        listener.local_addr()?,
        state.source.describe(),
        state.store.describe()
    );
    tokio::select! {
        result = serve_on(listener, state) => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Accepts connections on `listener` for ever, each under the configured timeouts and cap.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let config = state.config.clone();
    let open = Arc::new(Semaphore::new(config.max_connections));
    let router = app(state);
    loop {
        let permit = open.clone().acquire_owned().await.expect("the semaphore is never closed");
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (router, header_timeout, idle) =
            (router.clone(), config.header_read_timeout, config.idle_timeout);
        tokio::spawn(async move {
            let _held_while_open = permit;
            connection(stream, peer, router, header_timeout, idle).await;
        });
    }
}

/// One HTTP/1.1 connection: hyper's header-read timer, plus a watchdog that closes it once no
/// request has been in flight for `idle`.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    header_timeout: Duration,
    idle: Duration,
) {
    let started = Instant::now();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let last_active_ms = Arc::new(AtomicU64::new(0));
    let tracked = {
        let (in_flight, last_active_ms) = (in_flight.clone(), last_active_ms.clone());
        tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(crate::http::backoff::ClientAddr(peer.ip()));
            let (router, in_flight, last_active_ms) =
                (router.clone(), in_flight.clone(), last_active_ms.clone());
            in_flight.fetch_add(1, Ordering::SeqCst);
            async move {
                let resp = tower::ServiceExt::oneshot(router, req.map(axum::body::Body::new)).await;
                last_active_ms.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                resp
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(Some(header_timeout)).keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(tracked));
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(idle / 4), if !closing => {
                let last = Duration::from_millis(last_active_ms.load(Ordering::SeqCst));
                if in_flight.load(Ordering::SeqCst) == 0 && started.elapsed().saturating_sub(last) >= idle {
                    // Finishes a response being written, then closes.
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
