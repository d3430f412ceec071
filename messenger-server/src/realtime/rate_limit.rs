//! Per-user token buckets for sends.

use messenger_core::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per user: `rate` sends per second on average, bursts up to `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<UserId, (f64, Instant)>>,
}

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 100_000;

impl RateLimiter {
    /// `rate` per second, burst of twice that (at least 1).
    pub fn per_second(rate: f64) -> Self {
        RateLimiter {
            rate,
            burst: (rate * 2.0).max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `user`; `false` when they are over the limit.
    pub fn try_acquire(&self, user: UserId) -> bool {
        self.try_acquire_at(user, Instant::now())
    }

    fn try_acquire_at(&self, user: UserId, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(user).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_refills_at_the_rate_per_user() {
        let limiter = RateLimiter::per_second(2.0);
        let t0 = Instant::now();
        let alice = UserId(1);
        assert!(
            (0..4).all(|_| limiter.try_acquire_at(alice, t0)),
            "burst of 4"
        );
        assert!(!limiter.try_acquire_at(alice, t0));
        assert!(
            limiter.try_acquire_at(UserId(2), t0),
            "others are unaffected"
        );
        assert!(limiter.try_acquire_at(alice, t0 + Duration::from_millis(500)));
        assert!(!limiter.try_acquire_at(alice, t0 + Duration::from_millis(500)));
    }
}
