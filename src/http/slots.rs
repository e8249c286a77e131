//! The transform slots: back-pressure (at most `--max-transforms` at once, a bounded wait, then
//! 503), the memory budget reserved before the work, and the deadline, with the pipeline on the
//! blocking pool. A panic is a 500 for that request only.

use super::budget::Reservation;
use crate::error::Error;
use crate::spec::TransformSpec;
use crate::state::AppState;
use crate::transform::{self, TransformError};
use std::time::{Duration, Instant};

/// Runs the pipeline off the async runtime, under the transform deadline and within the memory
/// budget: the estimate from the header and plan is reserved before the work starts (on top of
/// `held`, what the caller already reserved for the source bytes) and held until it ends.
pub(super) async fn run_transform(
    state: &AppState,
    bytes: bytes::Bytes,
    spec: TransformSpec,
    what: &str,
    held: Reservation,
) -> Result<transform::Output, Error> {
    let limits = state.config.limits.clone();
    // The header read (an SVG's is a parse) and the transform each have the transform deadline.
    let estimate = assess(state, &bytes, &spec, Instant::now() + state.config.transform_timeout).await?;
    let held = hold_up_to(state, estimate.memory, held).await?;
    let deadline = Instant::now() + state.config.transform_timeout;
    run_guarded(state, what, move || {
        let _held_until_the_work_ends = held;
        transform::run(&bytes, &spec, &limits, deadline)
    })
    .await
}

/// The cost and memory estimate of `spec` on `bytes`, read in a transform slot on the blocking
/// pool: an SVG's header is a parse (in the sandbox, until `deadline`, within
/// `sandbox::HEADER_BYTES`), and no image bytes are parsed on an async worker. The slot bounds how
/// many such parses run at once.
pub(super) async fn assess(
    state: &AppState,
    bytes: &bytes::Bytes,
    spec: &TransformSpec,
    deadline: Instant,
) -> Result<transform::cost::Estimate, Error> {
    let (bytes, spec, limits) = (bytes.clone(), spec.clone(), state.config.limits.clone());
    run_in_slot(state, "header", move || {
        transform::decode::guarded("header reader", || transform::assess(&bytes, &spec, &limits, deadline))
    })
    .await
}

/// Tops `held` (the source's bytes, already reserved) up to `bytes` of the memory budget. The
/// top-up never waits while holding: if the budget cannot give it now, what is held goes back and
/// the whole is waited for, so requests holding part of the budget never wait on each other.
pub(super) async fn hold_up_to(
    state: &AppState,
    bytes: u64,
    mut held: Reservation,
) -> Result<Reservation, Error> {
    let have = super::budget::held_bytes(&held);
    if bytes <= have {
        return Ok(held);
    }
    if let Ok(more) = state.budget.try_reserve(bytes - have) {
        held.merge(more);
        return Ok(held);
    }
    drop(held);
    state.budget.reserve(bytes, state.config.queue_wait).await
}

/// Runs CPU work in a transform slot on the blocking pool. Back-pressure: at most N at once; a
/// request that cannot start within the queue wait is refused with 503 rather than piling up
/// decoded images in memory. A panic is a 500 for this request only.
pub async fn run_guarded<F>(state: &AppState, what: &str, work: F) -> Result<transform::Output, Error>
where
    F: FnOnce() -> Result<transform::Output, TransformError> + Send + 'static,
{
    run_in_slot(state, what, work).await
}

/// [`run_guarded`] for work with any result (an upload's check).
pub(crate) async fn run_in_slot<T, F>(state: &AppState, what: &str, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, TransformError> + Send + 'static,
{
    let permit = tokio::time::timeout(state.config.queue_wait, state.permits.clone().acquire_owned())
        .await
        .map_err(|_| Error::Busy)?
        .map_err(|_| Error::Busy)?;
    let timeout = state.config.transform_timeout;
    let task = tokio::task::spawn_blocking(move || {
        let _held_until_the_work_ends = permit;
        work()
    });
    match tokio::time::timeout(timeout + Duration::from_secs(1), task).await {
        Err(_) => Err(TransformError::Deadline.into()),
        Ok(Err(join)) => {
            tracing::error!(key = %what, "transform panicked: {join}");
            Err(TransformError::Internal("panic".into()).into())
        }
        Ok(Ok(result)) => Ok(result?),
    }
}
