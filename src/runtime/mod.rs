//! Adapters from the outside world to the one [`crate::app`]: the local server and Lambda.

#[cfg(feature = "aws")]
pub mod lambda;
pub mod local;
