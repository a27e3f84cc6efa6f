//! Access tokens issued by the simulated tenant. They are shaped like Entra's (a JWT:
//! base64url header, claims and signature, with `aud`, `exp`, `roles`, `tid`, `appid`, …) so a
//! client that reads the claims works as it does against Entra; the signature is random, and
//! the simulator accepts only the exact tokens it handed out, remembered with their roles.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::pass::random_alphanumeric;
use crate::secret::Secret;

/// Who the tokens are issued for and by whom, as the claims name them.
#[derive(Debug, Clone)]
pub(crate) struct TokenIssuer {
    pub tenant_id: String,
    pub client_id: String,
}

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
    Malformed,
    Unknown,
    Expired,
}

impl TokenRejection {
    /// The message Graph gives for each case.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "Access token is empty.",
            Self::Malformed => "IDX14100: JWT is not well formed, there are no dots (.).",
            Self::Unknown => "Access token validation failure.",
            Self::Expired => "Lifetime validation failed, the token is expired.",
        }
    }
}

/// Every token issued since start, keyed by value.
#[derive(Debug)]
pub(crate) struct TokenStore {
    issuer: TokenIssuer,
    lifetime: Duration,
    tokens: HashMap<String, IssuedToken>,
}

impl TokenStore {
    pub fn new(issuer: TokenIssuer, lifetime_seconds: u64) -> Self {
        Self {
            issuer,
            lifetime: Duration::seconds(i64::try_from(lifetime_seconds).unwrap_or(i64::MAX)),
            tokens: HashMap::new(),
        }
    }

    /// Issues a token for `audience` carrying `roles`, valid for the configured lifetime.
    pub fn issue(
        &mut self,
        roles: &[String],
        audience: &str,
        now: OffsetDateTime,
    ) -> (Secret, IssuedToken) {
        let token = IssuedToken {
            roles: roles.to_vec(),
            expires_at: now.saturating_add(self.lifetime),
        };
        let value = self.jwt(&token, audience, now);
        self.tokens.insert(value.clone(), token.clone());
        (Secret::new(value), token)
    }

    /// An app-only access token as Entra's v1 endpoint writes one for Graph.
    fn jwt(&self, token: &IssuedToken, audience: &str, now: OffsetDateTime) -> String {
        let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "simulated-tenant" });
        let claims = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{}/", self.issuer.tenant_id),
            "iat": now.unix_timestamp(),
            "nbf": now.unix_timestamp(),
            "exp": token.expires_at.unix_timestamp(),
            "appid": self.issuer.client_id,
            "idtyp": "app",
            "roles": token.roles,
            "tid": self.issuer.tenant_id,
            "uti": random_alphanumeric(22),
            "ver": "1.0",
        });
        let signature = URL_SAFE_NO_PAD.encode(random_alphanumeric(64));
        format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
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
        let token = self.tokens.get(bearer).ok_or(if bearer.contains('.') {
            TokenRejection::Unknown
        } else {
            TokenRejection::Malformed
        })?;
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
