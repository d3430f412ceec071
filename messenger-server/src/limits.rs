//! This node's limits, token buckets: sends per user, failed sign-ins per phone and per client
//! address.

use messenger_core::{CoreError, UserId};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per key: `rate` tokens per second on average, bursts up to `burst`.
pub struct RateLimiter<K = UserId> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 100_000;

impl<K: Hash + Eq> RateLimiter<K> {
    /// `rate` per second, burst of twice that (at least 1).
    pub fn per_second(rate: f64) -> Self {
        Self::new(rate, (rate * 2.0).max(1.0))
    }

    /// `rate` per second, bursts up to `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        RateLimiter {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `false` when it is over the limit.
    pub fn try_acquire(&self, key: K) -> bool {
        self.try_acquire_at(key, Instant::now())
    }

    /// Whether `key` has a token left, without taking it.
    pub fn has_token(&self, key: &K) -> bool {
        let now = Instant::now();
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(key).is_none_or(|(tokens, at)| {
            *tokens + now.duration_since(*at).as_secs_f64() * self.rate >= 1.0
        })
    }

    fn try_acquire_at(&self, key: K, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.burst, now));
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

/// Failed sign-ins allowed per phone in a burst, then one more every [`PHONE_REFILL_SECS`].
pub const PHONE_FAILURES: f64 = 5.0;
const PHONE_REFILL_SECS: f64 = 30.0;
/// Failed sign-ins allowed per client address in a burst, then one more every 2 s.
pub const ADDRESS_FAILURES: f64 = 30.0;
const ADDRESS_REFILL_SECS: f64 = 2.0;

/// Slows password guessing: only failed sign-ins are counted, per phone and per client
/// address, so successful traffic and sign-ups from one address (a load test) are never slowed.
/// Counts are per node; a guesser spread over n nodes gets n times the allowance.
pub struct LoginThrottle {
    by_phone: RateLimiter<String>,
    by_address: RateLimiter<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            by_phone: RateLimiter::new(1.0 / PHONE_REFILL_SECS, PHONE_FAILURES),
            by_address: RateLimiter::new(1.0 / ADDRESS_REFILL_SECS, ADDRESS_FAILURES),
        }
    }
}

impl LoginThrottle {
    /// `rate_limited` when this phone or this address has used up its failed attempts.
    pub fn admit(&self, phone: &str, address: Option<IpAddr>) -> Result<(), CoreError> {
        if !self.by_phone.has_token(&phone.to_owned()) {
            return Err(CoreError::RateLimited(
                "too many failed sign-ins for this phone; try again in a minute",
            ));
        }
        if address.is_some_and(|a| !self.by_address.has_token(&a)) {
            return Err(CoreError::RateLimited(
                "too many failed sign-ins from this address; try again in a minute",
            ));
        }
        Ok(())
    }

    /// Counts a failed attempt against the phone and the address.
    pub fn failed(&self, phone: &str, address: Option<IpAddr>) {
        self.by_phone.try_acquire(phone.to_owned());
        if let Some(address) = address {
            self.by_address.try_acquire(address);
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

    #[test]
    fn sign_ins_are_throttled_per_phone_and_per_address_on_failures_only() {
        let throttle = LoginThrottle::default();
        let home: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..PHONE_FAILURES as usize {
            assert!(throttle.admit("+15550001", Some(home)).is_ok());
            throttle.failed("+15550001", Some(home));
        }
        assert!(matches!(
            throttle.admit("+15550001", Some(home)),
            Err(CoreError::RateLimited(_))
        ));
        assert!(
            throttle.admit("+15550002", Some(home)).is_ok(),
            "another phone"
        );

        let guesser: IpAddr = "10.0.0.2".parse().unwrap();
        for n in 0..ADDRESS_FAILURES as usize {
            let phone = format!("+1555100{n:04}");
            assert!(throttle.admit(&phone, Some(guesser)).is_ok());
            throttle.failed(&phone, Some(guesser));
        }
        assert!(matches!(
            throttle.admit("+15559999", Some(guesser)),
            Err(CoreError::RateLimited(_))
        ));
        assert!(
            throttle.admit("+15559999", Some(home)).is_ok(),
            "another address"
        );
    }
}
