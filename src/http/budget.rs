//! The memory budget (`--max-memory-mb`): every transform reserves its estimate (from the header
//! and the plan, before decoding), every buffered original its size and every POST body its
//! declared length, before the memory is used; what cannot be reserved within the queue wait is a
//! 503, what could never fit is a 413. The reservation is held until the work ends — for an
//! original, until its body has been written to the client.

use crate::error::Error;
use crate::transform::TransformError;
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory held for one piece of work; released when dropped.
pub(crate) type Reservation = OwnedSemaphorePermit;

/// The bytes a reservation holds (the budget counts KiB).
pub(crate) fn held_bytes(held: &Reservation) -> u64 {
    held.num_permits() as u64 * 1024
}

/// The budget, counted in KiB.
#[derive(Debug, Clone)]
pub(crate) struct MemoryBudget {
    permits: Arc<Semaphore>,
    total_kib: u32,
}

impl MemoryBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: u64) -> Self {
        let total_kib = bytes.div_ceil(1024).clamp(1, u64::from(u32::MAX)) as u32;
        MemoryBudget { permits: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }

    /// Reserves `bytes`, waiting at most `wait` for others to release theirs.
    pub(crate) async fn reserve(&self, bytes: u64, wait: Duration) -> Result<Reservation, Error> {
        let kib = bytes.div_ceil(1024).max(1);
        if kib > u64::from(self.total_kib) {
            return Err(TransformError::OverBudget(format!(
                "this request would need about {} MB, over the memory budget of {} MB (--max-memory-mb)",
                bytes >> 20,
                self.total_kib >> 10
            ))
            .into());
        }
        tokio::time::timeout(wait, self.permits.clone().acquire_many_owned(kib as u32))
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|_| Error::Busy)
    }

    /// Reserves `bytes` if the budget has them now; never waits (a top-up by someone who already
    /// holds part of the budget must not wait for others, who may be waiting for theirs).
    pub(crate) fn try_reserve(&self, bytes: u64) -> Result<Reservation, Error> {
        let kib = u32::try_from(bytes.div_ceil(1024).max(1)).map_err(|_| Error::Busy)?;
        self.permits.clone().try_acquire_many_owned(kib).map_err(|_| Error::Busy)
    }

    /// KiB free now (for tests and operators).
    pub(crate) fn available_kib(&self) -> usize {
        self.permits.available_permits()
    }
}

/// A response body of bytes that keeps its reservation until the last of them has been taken.
/// It hands them out in chunks: the server asks for the next chunk only once the previous one is
/// written, so a slow reader keeps the reservation (not a copy of the bytes in a write queue).
pub(crate) struct HeldBody {
    bytes: Option<Bytes>,
    _reservation: Reservation,
}

/// Bytes handed to the server at a time.
const CHUNK: usize = 256 << 10;

impl HeldBody {
    pub(crate) fn new(bytes: Bytes, reservation: Reservation) -> Self {
        HeldBody { bytes: Some(bytes).filter(|b| !b.is_empty()), _reservation: reservation }
    }
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let Some(rest) = self.bytes.as_mut() else {
            return Poll::Ready(None);
        };
        let chunk = rest.split_to(rest.len().min(CHUNK));
        if rest.is_empty() {
            self.bytes = None;
        }
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}
