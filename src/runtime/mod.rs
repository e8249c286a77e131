//! Adapters from the outside world to the one [`crate::app`]: the local HTTP server.

pub mod local;
