//! Injected faults and the write throttle: which requests misbehave, and how.

use std::time::{Duration, Instant};

use axum::http::Method;

use super::tenant_file::{FaultSpec, ThrottleSpec};

/// The faults still armed, in the order they were defined.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    faults: Vec<ArmedFault>,
}

#[derive(Debug)]
struct ArmedFault {
    spec: FaultSpec,
    pattern: Vec<String>,
    remaining: Option<u32>,
}

impl FaultBook {
    pub fn new(specs: &[FaultSpec]) -> Self {
        let mut book = Self::default();
        for spec in specs {
            book.add(spec.clone());
        }
        book
    }

    pub fn add(&mut self, spec: FaultSpec) {
        self.faults.push(ArmedFault {
            pattern: split_path(&spec.path),
            remaining: spec.times,
            spec,
        });
    }

    /// The first armed fault matching the request, using up one of its `times`.
    pub fn take(&mut self, method: &Method, path: &str) -> Option<FaultSpec> {
        let segments = split_path(path);
        let fault = self.faults.iter_mut().find(|f| {
            f.remaining != Some(0)
                && f.spec
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && glob_segments(&f.pattern, &segments)
        })?;
        if let Some(n) = &mut fault.remaining {
            *n -= 1;
        }
        Some(fault.spec.clone())
    }
}

/// Percent-decoded path segments, so a fault written with `adele@contoso.com` matches a
/// request for `adele%40contoso.com`.
fn split_path(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// `**` matches any number of segments; every other pattern segment matches exactly one.
fn glob_segments(pattern: &[String], path: &[String]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=path.len()).any(|skip| glob_segments(rest, &path[skip..]))
        }
        Some((p, rest)) => path
            .split_first()
            .is_some_and(|(s, path_rest)| glob_segment(p, s) && glob_segments(rest, path_rest)),
    }
}

/// Within one segment `*` matches any run of characters; the rest compares case-insensitively,
/// as Graph treats paths.
fn glob_segment(pattern: &str, segment: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let segment = segment.to_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = segment.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// A fixed-window write budget.
#[derive(Debug)]
pub(crate) struct Throttle {
    spec: ThrottleSpec,
    window_start: Option<Instant>,
    used: u32,
}

impl Throttle {
    pub fn new(spec: ThrottleSpec) -> Self {
        Self {
            spec,
            window_start: None,
            used: 0,
        }
    }

    /// Counts a write; over budget, returns how long until the window reopens.
    pub fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        let window = Duration::from_millis(self.spec.window_ms);
        let start = match self.window_start {
            Some(start) if now.duration_since(start) < window => start,
            _ => {
                self.used = 0;
                *self.window_start.insert(now)
            }
        };
        if self.used < self.spec.writes_per_window {
            self.used += 1;
            Ok(())
        } else {
            Err(window.saturating_sub(now.duration_since(start)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        glob_segments(&split_path(pattern), &split_path(path))
    }

    #[test]
    fn star_matches_one_segment_and_double_star_any() {
        let tap = "/v1.0/users/*/authentication/temporaryAccessPassMethods";
        assert!(matches(
            tap,
            "/v1.0/users/adele%40contoso.com/authentication/temporaryAccessPassMethods"
        ));
        assert!(!matches(
            tap,
            "/v1.0/users/a/b/authentication/temporaryAccessPassMethods"
        ));
        assert!(matches(
            "/**/temporaryAccessPassMethods",
            "/beta/users/x/authentication/temporaryAccessPassMethods"
        ));
        assert!(matches("/**", "/v1.0/users/x"));
        assert!(matches(
            "/v1.0/users/*@contoso.com",
            "/v1.0/users/ADELE@contoso.com"
        ));
        assert!(!matches(
            "/v1.0/users/*@contoso.com",
            "/v1.0/users/adele@fabrikam.com"
        ));
        assert!(matches("/*/users/*", "/beta/users/x"));
    }

    #[test]
    fn throttle_refuses_over_budget_until_the_window_ends() {
        let mut t = Throttle::new(ThrottleSpec {
            writes_per_window: 2,
            window_ms: 1000,
        });
        let now = Instant::now();
        assert!(t.admit(now).is_ok());
        assert!(t.admit(now).is_ok());
        let wait = t.admit(now + Duration::from_millis(400)).unwrap_err();
        assert_eq!(wait, Duration::from_millis(600));
        assert!(t.admit(now + Duration::from_millis(1000)).is_ok());
    }
}
