//! `pixflow serve`: the app on a TCP socket, stopping cleanly on Ctrl-C.

use crate::http::{app, AppState};
use std::net::SocketAddr;

/// Serves `state` on `addr` until Ctrl-C.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "pixflow listening on http://{} (source: {}, result store: {})",
        listener.local_addr()?,
        state.source.describe(),
        state.store.describe()
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
