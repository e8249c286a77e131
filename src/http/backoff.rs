//! Back-off for wrong API keys: after a wrong key, the same client is refused (429, without its
//! key being looked at) for a time that doubles with each further wrong key — 0.1 s, 0.2 s, …,
//! at most 60 s — so guessing a key from one address runs at a few guesses a minute, not thousands
//! a second. A right key clears the client's record (docs/hardening.md "API keys").

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address a request came from: the socket's peer under `pixflow serve` (set as a request
/// extension by the accept loop); on Lambda, the last `X-Forwarded-For` entry, which the Function
/// URL appends itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

/// The first wait, doubled per wrong key after it, and the longest.
const FIRST: Duration = Duration::from_millis(100);
const LONGEST: Duration = Duration::from_secs(60);
/// Clients remembered at most; past it the oldest records are forgotten.
const MAX_CLIENTS: usize = 10_000;

/// Wrong-key records by client.
#[derive(Debug, Default)]
pub(crate) struct Backoff(Mutex<HashMap<IpAddr, (u32, Instant)>>);

impl Backoff {
    /// How long `client` must still wait, if it must. A request with no known client (an
    /// in-process call, not a socket's) has no record.
    pub(crate) fn waiting(&self, client: Option<IpAddr>) -> Option<Duration> {
        let records = self.0.lock().ok()?;
        let (_, until) = records.get(&client?)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Records a wrong key from `client`.
    pub(crate) fn failed(&self, client: Option<IpAddr>) {
        let (Some(client), Ok(mut records)) = (client, self.0.lock()) else { return };
        if records.len() >= MAX_CLIENTS && !records.contains_key(&client) {
            let now = Instant::now();
            records.retain(|_, (_, until)| *until > now);
            if records.len() >= MAX_CLIENTS {
                records.clear();
            }
        }
        let entry = records.entry(client).or_insert((0, Instant::now()));
        entry.0 = entry.0.saturating_add(1);
        let wait = FIRST.saturating_mul(1 << (entry.0 - 1).min(20)).min(LONGEST);
        entry.1 = Instant::now() + wait;
    }

    /// Forgets `client`'s wrong keys.
    pub(crate) fn succeeded(&self, client: Option<IpAddr>) {
        if let (Some(client), Ok(mut records)) = (client, self.0.lock()) {
            records.remove(&client);
        }
    }
}

/// The client of a request (see [`ClientAddr`]).
pub(crate) fn client(req: &http::request::Parts) -> Option<IpAddr> {
    if let Some(ClientAddr(ip)) = req.extensions.get::<ClientAddr>() {
        return Some(*ip);
    }
    let forwarded = req.headers.get("x-forwarded-for")?.to_str().ok()?;
    forwarded.rsplit(',').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wrong_key_doubles_the_wait_and_a_right_one_clears_it() {
        let b = Backoff::default();
        let ip = Some("192.0.2.1".parse().unwrap());
        assert_eq!(b.waiting(ip), None);
        b.failed(ip);
        let first = b.waiting(ip).unwrap();
        assert!(first <= FIRST && first > FIRST / 2, "{first:?}");
        b.failed(ip);
        b.failed(ip);
        let third = b.waiting(ip).unwrap();
        assert!(third > FIRST * 3 && third <= FIRST * 4, "{third:?}");
        assert_eq!(b.waiting(Some("192.0.2.2".parse().unwrap())), None, "others are not held back");
        b.succeeded(ip);
        assert_eq!(b.waiting(ip), None);
    }
}
