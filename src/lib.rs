//! pixflow: an on-the-fly image transformer. A URL such as `/w_400,h_300,c_fill/photos/cat.jpg`
//! names an original and what to do with it; pixflow fetches the original, transforms it, caches
//! the result and answers with the bytes — as a local server, from tests in-process, or on AWS
//! Lambda behind CloudFront, always through the one [`app`].
//!
//! Modules, in the order a request meets them: [`spec`] (the URL), [`source`] (originals),
//! [`cache`] (memory and result store), [`transform`] (pixels), [`http`] (status and headers),
//! [`runtime`] (sockets). [`config`] reads flags and environment; [`error`] maps failures to HTTP.
//! [`events`] is what happens when originals change: purges, invalidations, eager variants.

#[cfg(feature = "aws")]
pub mod aws;
pub mod cache;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod runtime;
pub mod source;
pub mod spec;
pub mod state;
pub mod transform;

pub use http::{app, AppState};
