//! Protection from one peer and from overload: a token bucket per peer
//! provider (429 + `Retry-After` when empty) and a cap on federation requests
//! in flight (503 + `Retry-After` when reached).
//!
//! Both answer immediately instead of queueing, so a flood costs us a header
//! parse, and the caller's backoff (which the MIMI fan-out honours) does the
//! waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::fed::peer_auth::Peer;
use crate::setup::config::Limits;
use crate::setup::http_error::ApiError;

/// Federation requests handled at once. Beyond it we answer 503: the hub's
/// per-room lanes already queue work, and more concurrency only adds memory.
pub const MAX_IN_FLIGHT: usize = 1024;

/// What a full server tells callers to wait.
const OVERLOAD_RETRY: Duration = Duration::from_secs(1);

/// The limiter state shared by all connections.
#[derive(Debug)]
pub struct Limiter {
    /// Tokens per second per peer.
    rate: f64,
    /// Bucket size: one second's worth, so a peer may burst to its rate.
    burst: f64,
    /// One bucket per authenticated peer. Only providers with a certificate
    /// from our CA get here, which bounds the map.
    buckets: Mutex<HashMap<String, Bucket>>,
    in_flight: Arc<Semaphore>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: &Limits) -> Self {
        let rate = f64::from(limits.requests_per_second_per_peer.max(1));
        Self {
            rate,
            burst: rate,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// A limiter of `rate` tokens per second per peer with buckets of `burst`
    /// tokens (for endpoints with their own, lower, limit).
    pub fn with_rate(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Takes one token from `peer`'s bucket at `now`, or says how long until
    /// one is available.
    pub fn take(&self, peer: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Look up before inserting: the key is allocated once per peer, not
        // once per request.
        if !buckets.contains_key(peer) {
            buckets.insert(
                peer.to_owned(),
                Bucket {
                    tokens: self.burst,
                    last: now,
                },
            );
        }
        let Some(bucket) = buckets.get_mut(peer) else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// axum middleware: rate limit per authenticated peer, then the in-flight cap.
pub async fn enforce(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    if let Some(Peer(peer)) = req.extensions().get::<Peer>()
        && let Err(wait) = limiter.take(peer.domain(), Instant::now())
    {
        return ApiError::RateLimited(wait).into_response();
    }
    let Ok(_permit) = limiter.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded(OVERLOAD_RETRY).into_response();
    };
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = Limiter::new(&Limits {
            requests_per_second_per_peer: 10,
            ..Limits::default()
        });
        let t0 = Instant::now();
        for _ in 0..10 {
            limiter.take("b.example", t0).unwrap();
        }
        let wait = limiter.take("b.example", t0).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Another peer has its own bucket.
        limiter.take("c.example", t0).unwrap();
        // 100 ms later one token is back, not more.
        let t1 = t0 + Duration::from_millis(100);
        limiter.take("b.example", t1).unwrap();
        assert!(limiter.take("b.example", t1).is_err());
    }
}
