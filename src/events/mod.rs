//! What happens when originals change, whoever changed them: the write API, S3 event
//! notifications, `pixflow purge`. [`fresh`] purges stored variants and invalidates the edge,
//! [`variants`] renders variants into the result store (jobs and `--eager`), [`s3`] reads S3's
//! event notifications and calls both.

pub mod fresh;
#[cfg(feature = "aws")]
pub mod s3;
pub mod variants;
