//! HTTP: the one [`app`] shared by the local server, Lambda and tests. `router` dispatches,
//! `image` serves originals and variants (no pixel code: it reaches `transform` only to run the
//! pipeline), `slots` and `budget` bound the work in flight, `post` takes images in request
//! bodies, and `response` owns every header.

mod api;
pub(crate) mod backoff;
mod body;
pub(crate) mod budget;
mod demo;
pub(crate) mod image;
mod post;
mod response;
mod router;
mod slots;

pub use crate::state::{AppState, Stats};
pub use slots::run_guarded;

/// The application: one tower service answering every path.
pub fn app(state: AppState) -> axum::Router {
    axum::Router::new().fallback(router::handle).with_state(state)
}
