//! Request bodies (uploads, jobs, POSTed images) read within a size limit and a minimum rate,
//! reserving the memory budget as the bytes arrive — never from the declared length — so that
//! bodies that trickle in cannot hold the budget that transforms need (docs/hardening.md
//! "Bodies").

use super::budget::Reservation;
use crate::error::Error;
use crate::source::SourceError;
use crate::state::AppState;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::time::Instant;

/// Time every body has before the rate counts: a client's connection setup and first bytes.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// The slowest rate a body may keep after [`GRACE`] (a 20 MB upload may take 10 minutes).
pub(crate) const MIN_RATE: u64 = 32 << 10;
/// The budget is topped up in steps of at least this much.
const STEP: u64 = 256 << 10;

/// Reads `body` (at most `max` bytes; more is a 413). `per_byte` is the memory each body byte
/// stands for (2 for base64 JSON, whose image is decoded beside it). The next byte must arrive
/// by `GRACE + received / MIN_RATE` after the start, or the read stops with a 408 and what it
/// reserved is returned. A top-up the budget cannot give at once is a 503.
pub(crate) async fn read(
    state: &AppState,
    body: Body,
    max: u64,
    per_byte: u64,
) -> Result<(Bytes, Reservation), Error> {
    let started = Instant::now();
    // Nothing is held yet, so this first step may wait for the budget like any request.
    let mut held = state.budget.reserve(STEP, state.config.queue_wait).await?;
    let mut data = BytesMut::new();
    let mut body = body;
    loop {
        let received = data.len() as u64;
        let by = started + GRACE + Duration::from_secs_f64(received as f64 / MIN_RATE as f64);
        let frame = match tokio::time::timeout_at(by, body.frame()).await {
            Err(_) => return Err(Error::SlowBody(MIN_RATE)),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(Error::BadBody(format!("the request body could not be read: {e}")));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(chunk) = frame.into_data() else { continue };
        if received + chunk.len() as u64 > max {
            return Err(SourceError::TooLarge(max).into());
        }
        data.extend_from_slice(&chunk);
        let need = (data.len() as u64).saturating_mul(per_byte);
        let have = super::budget::held_bytes(&held);
        if need > have {
            held.merge(state.budget.try_reserve((need - have).max(STEP))?);
        }
    }
    Ok((data.freeze(), held))
}
