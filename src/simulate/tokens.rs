//! Access tokens issued by the simulated tenant: opaque random strings it remembers with the
//! app's roles and an expiry, so Graph routes can check both.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

use super::pass::random_alphanumeric;
use crate::secret::Secret;

/// A token the simulator handed out.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub roles: Vec<String>,
    pub expires_at: OffsetDateTime,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRejection {
    Missing,
    Unknown,
    Expired,
}

impl TokenRejection {
    /// The message Graph gives for each case.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "Access token is empty.",
            Self::Unknown => "IDX14100: JWT is not well formed, there are no dots (.).",
            Self::Expired => "Lifetime validation failed, the token is expired.",
        }
    }
}

/// Every token issued since start, keyed by value.
#[derive(Debug)]
pub(crate) struct TokenStore {
    lifetime: Duration,
    tokens: HashMap<String, IssuedToken>,
}

impl TokenStore {
    pub fn new(lifetime_seconds: u64) -> Self {
        Self {
            lifetime: Duration::seconds(i64::try_from(lifetime_seconds).unwrap_or(i64::MAX)),
            tokens: HashMap::new(),
        }
    }

    /// Issues a token carrying `roles`, valid for the configured lifetime.
    pub fn issue(&mut self, roles: &[String], now: OffsetDateTime) -> (Secret, IssuedToken) {
        let value = random_alphanumeric(64);
        let token = IssuedToken {
            roles: roles.to_vec(),
            expires_at: now.saturating_add(self.lifetime),
        };
        self.tokens.insert(value.clone(), token.clone());
        (Secret::new(value), token)
    }

    /// Checks an `Authorization` header value.
    pub fn check(
        &self,
        authorization: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<&IssuedToken, TokenRejection> {
        let bearer = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenRejection::Missing)?;
        let token = self.tokens.get(bearer).ok_or(TokenRejection::Unknown)?;
        if now >= token.expires_at {
            return Err(TokenRejection::Expired);
        }
        Ok(token)
    }

    /// Makes every token issued so far expire now, to test refresh-on-401.
    pub fn expire_all(&mut self, now: OffsetDateTime) {
        for token in self.tokens.values_mut() {
            token.expires_at = now;
        }
    }
}
