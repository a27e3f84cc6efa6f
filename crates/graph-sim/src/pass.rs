//! A Temporary Access Pass held by the simulated tenant: its value, lifetime and usability.

use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use crate::secret::Secret;
use crate::time_format::format_rfc3339;

/// One `temporaryAccessPassAuthenticationMethod`.
#[derive(Debug, Clone)]
pub(crate) struct TemporaryAccessPass {
    pub id: String,
    pub value: Secret,
    pub created: OffsetDateTime,
    pub start: OffsetDateTime,
    pub lifetime_minutes: u32,
    pub is_usable_once: bool,
    /// A one-time pass that was used to sign in.
    pub used: bool,
}

/// `methodUsabilityReason` values Graph reports for a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UsabilityReason {
    EnabledByPolicy,
    DisabledByPolicy,
    Expired,
    NotYetValid,
    OneTimeUsed,
}

impl UsabilityReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::EnabledByPolicy => "EnabledByPolicy",
            Self::DisabledByPolicy => "DisabledByPolicy",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::OneTimeUsed => "OneTimeUsed",
        }
    }
}

impl TemporaryAccessPass {
    /// When the pass stops working.
    pub fn end(&self) -> OffsetDateTime {
        self.start + Duration::minutes(i64::from(self.lifetime_minutes))
    }

    /// Whether the pass works at `now`, and why (not). Policy wins over the clock: a pass for a
    /// user outside the policy's targets never works, whatever its validity window.
    pub fn usability(&self, now: OffsetDateTime, disabled_by_policy: bool) -> UsabilityReason {
        if disabled_by_policy {
            UsabilityReason::DisabledByPolicy
        } else if self.is_usable_once && self.used {
            UsabilityReason::OneTimeUsed
        } else if now < self.start {
            UsabilityReason::NotYetValid
        } else if now >= self.end() {
            UsabilityReason::Expired
        } else {
            UsabilityReason::EnabledByPolicy
        }
    }

    /// The Graph representation. The value is included only for the create response, as Graph
    /// does; everywhere else it is `null`.
    pub fn to_graph(
        &self,
        now: OffsetDateTime,
        disabled_by_policy: bool,
        include_value: bool,
    ) -> Map<String, Value> {
        let reason = self.usability(now, disabled_by_policy);
        let value = if include_value {
            Value::String(self.value.expose().to_owned())
        } else {
            Value::Null
        };
        let Value::Object(map) = json!({
            "id": self.id,
            "temporaryAccessPass": value,
            "createdDateTime": format_rfc3339(self.created),
            "startDateTime": format_rfc3339(self.start),
            "lifetimeInMinutes": self.lifetime_minutes,
            "isUsableOnce": self.is_usable_once,
            "isUsable": reason == UsabilityReason::EnabledByPolicy,
            "methodUsabilityReason": reason.as_str(),
        }) else {
            unreachable!("json! of an object literal is an object")
        };
        map
    }
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_~";

/// A random pass of `length` characters drawn from letters, digits and symbols, with at least
/// one of each, like the passes Entra generates.
pub(crate) fn generate_pass_value(length: u32) -> Secret {
    let alphabet: Vec<u8> = [LETTERS, DIGITS, SYMBOLS].concat();
    let mut rng = rand::rng();
    loop {
        let candidate: String = (0..length)
            .map(|_| char::from(*alphabet.choose(&mut rng).expect("alphabet is not empty")))
            .collect();
        let has = |set: &[u8]| candidate.bytes().any(|b| set.contains(&b));
        if has(LETTERS) && has(DIGITS) && has(SYMBOLS) {
            return Secret::new(candidate);
        }
    }
}

/// A random GUID-shaped identifier.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random alphanumeric string, for tokens and identity headers.
pub(crate) fn random_alphanumeric(length: usize) -> String {
    let alphabet: Vec<u8> = [LETTERS, DIGITS].concat();
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(*alphabet.choose(&mut rng).expect("alphabet is not empty")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passes_mix_letters_digits_and_symbols() {
        for length in [8, 16, 48] {
            let pass = generate_pass_value(length);
            let value = pass.expose();
            assert_eq!(value.len(), length as usize);
            assert!(value.bytes().any(|b| LETTERS.contains(&b)));
            assert!(value.bytes().any(|b| DIGITS.contains(&b)));
            assert!(value.bytes().any(|b| SYMBOLS.contains(&b)));
        }
    }

    #[test]
    fn usability_follows_policy_then_clock() {
        let now = OffsetDateTime::now_utc();
        let pass = TemporaryAccessPass {
            id: new_id(),
            value: generate_pass_value(8),
            created: now,
            start: now + Duration::minutes(10),
            lifetime_minutes: 60,
            is_usable_once: true,
            used: false,
        };
        assert_eq!(pass.usability(now, false), UsabilityReason::NotYetValid);
        assert_eq!(
            pass.usability(now + Duration::minutes(20), false),
            UsabilityReason::EnabledByPolicy
        );
        assert_eq!(
            pass.usability(now + Duration::minutes(70), false),
            UsabilityReason::Expired
        );
        assert_eq!(pass.usability(now, true), UsabilityReason::DisabledByPolicy);
        let used = TemporaryAccessPass { used: true, ..pass };
        assert_eq!(
            used.usability(now + Duration::minutes(20), false),
            UsabilityReason::OneTimeUsed
        );
    }
}
