//! The retry policy shared by every Graph call: which waits, how long, how often.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// How the client retries. [`Default`] is the production policy; tests shrink
/// the delays so nothing waits for real seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per call, the first one included.
    pub max_tries: u32,
    /// The first backoff step; each retry doubles it.
    pub base_delay: Duration,
    /// The largest backoff step.
    pub max_delay: Duration,
    /// The most we wait for a server's `Retry-After`, however long it asks for.
    pub retry_after_cap: Duration,
    /// Extra lookups of a user Graph says does not exist: a user created moments ago may not
    /// have replicated to every Entra directory replica yet.
    pub user_lag_retries: u32,
    /// The wait between those lookups.
    pub user_lag_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_tries: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            user_lag_retries: 4,
            user_lag_delay: Duration::from_millis(2500),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): exponential backoff with
    /// full jitter, so concurrent jobs throttled together do not come back together.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    /// The wait a server asked for, capped.
    pub(crate) fn server_wait(&self, asked: Duration) -> Duration {
        asked.min(self.retry_after_cap)
    }
}

/// The wait a response's `Retry-After` header asks for, if it has a readable one.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Reads a `Retry-After` value: delay seconds (Graph sometimes sends fractions such as `0.5`)
/// or an HTTP date. A date in the past means "now". Anything else is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).ok())
            .flatten();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_fractions_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// A server asking for centuries gets the cap, not a panic or an overflow.
    #[test]
    fn absurd_retry_after_values_are_capped_or_ignored() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let policy = RetryPolicy::default();
        for absurd in [
            "1e308",
            "99999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            let wait = parse_retry_after(absurd, now).map(|asked| policy.server_wait(asked));
            assert!(
                wait.is_none_or(|w| w <= policy.retry_after_cap),
                "{absurd}: {wait:?}"
            );
        }
        assert_eq!(parse_retry_after("inf", now), None);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..=10 {
            let ceiling = Duration::from_secs(1 << (retry - 1).min(5)).min(policy.max_delay);
            for _ in 0..50 {
                assert!(policy.backoff(retry) <= ceiling);
            }
        }
        assert_eq!(
            policy.server_wait(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
    }
}
