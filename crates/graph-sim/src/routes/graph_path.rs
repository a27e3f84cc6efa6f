//! Graph paths, parsed by hand: the `/users('…')` key form, percent-encoded segments and
//! case-insensitive names do not fit a router's patterns.

use crate::envelope::GraphError;

/// The Graph API version a request addressed; echoed in `@odata.context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V1,
    Beta,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1.0",
            Self::Beta => "beta",
        }
    }

    /// The `@odata.context` prefix Graph writes, always naming the public endpoint.
    pub fn metadata(self) -> String {
        format!("https://graph.microsoft.com/{}/$metadata", self.as_str())
    }
}

/// What a Graph path addresses. User keys are percent-decoded (an id or a UPN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GraphResource {
    User(String),
    Passes(String),
    Pass(String, String),
    SendMail(String),
    MailboxSettings(String),
    TapPolicy,
}

/// Parses a request path such as `/v1.0/users/adele%40contoso.com/sendMail`.
pub(crate) fn parse(path: &str) -> Result<(ApiVersion, GraphResource), GraphError> {
    let mut raw = path.trim_start_matches('/').split('/');
    let version = match raw.next().unwrap_or_default() {
        v if v.eq_ignore_ascii_case("v1.0") => ApiVersion::V1,
        v if v.eq_ignore_ascii_case("beta") => ApiVersion::Beta,
        v => {
            return Err(GraphError::invalid_payload(format!("Invalid version: {v}")));
        }
    };
    let segments: Vec<String> = raw
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let names: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();

    let (user, rest) = match names.as_slice() {
        // OData reads a segment that starts with `$` as a system segment (`$count`, `$ref`), so
        // a UPN such as `$admin@…` must be addressed in the key form, `users('$admin@…')`.
        ["users", key, ..] if key.starts_with('$') => return Err(collection_not_last()),
        ["users", _, ..] => (segments[1].clone(), &segments[2..]),
        [first, ..] if first.starts_with("users(") => (key_form(&segments[0])?, &segments[1..]),
        [
            "policies",
            "authenticationmethodspolicy",
            "authenticationmethodconfigurations",
            "temporaryaccesspass",
        ]
        | [
            "policies",
            "authenticationmethodspolicy",
            "authenticationmethodconfigurations('temporaryaccesspass')",
        ] => return Ok((version, GraphResource::TapPolicy)),
        _ => return Err(unknown_segment(&segments)),
    };
    if user.is_empty() {
        return Err(unknown_segment(&segments));
    }
    let rest_names: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let rest_names: Vec<&str> = rest_names.iter().map(String::as_str).collect();
    let resource = match rest_names.as_slice() {
        [] => GraphResource::User(user),
        ["sendmail"] => GraphResource::SendMail(user),
        ["mailboxsettings"] => GraphResource::MailboxSettings(user),
        ["authentication", "temporaryaccesspassmethods"] => GraphResource::Passes(user),
        ["authentication", "temporaryaccesspassmethods", _] => {
            GraphResource::Pass(user, rest[2].clone())
        }
        _ => return Err(unknown_segment(rest)),
    };
    Ok((version, resource))
}

/// `users('o''brien@contoso.com')` → `o'brien@contoso.com`.
fn key_form(segment: &str) -> Result<String, GraphError> {
    let bad = || {
        GraphError::invalid_payload(format!(
            "Syntax error: the key in '{segment}' must be a quoted string such as users('id')."
        ))
    };
    let inner = segment
        .get("users(".len()..)
        .and_then(|s| s.strip_suffix(')'))
        .and_then(|s| s.strip_prefix('\''))
        .and_then(|s| s.strip_suffix('\''))
        .ok_or_else(bad)?;
    // Inside the quotes a quote must be doubled; a lone one ends the literal too early.
    if inner.replace("''", "").contains('\'') {
        return Err(bad());
    }
    Ok(inner.replace("''", "'"))
}

/// Graph's answer to `/users/$…`, word for word.
fn collection_not_last() -> GraphError {
    GraphError::invalid_payload(
        "The request URI is not valid. Since the segment 'users' refers to a collection, this \
         must be the last segment in the request URI or it must be followed by an function or \
         action that can be bound to it otherwise all intermediate segments must refer to a \
         single resource.",
    )
}

fn unknown_segment(segments: &[String]) -> GraphError {
    let segment = segments
        .iter()
        .find(|s| !s.is_empty())
        .map_or("", String::as_str);
    GraphError::invalid_payload(format!("Resource not found for the segment '{segment}'."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> GraphResource {
        parse(path).unwrap().1
    }

    #[test]
    fn users_by_segment_and_key_form() {
        assert_eq!(
            resource("/v1.0/users/a%23b%40contoso.com"),
            GraphResource::User("a#b@contoso.com".into())
        );
        assert_eq!(
            resource(
                "/beta/users('o''brien@contoso.com')/authentication/temporaryAccessPassMethods"
            ),
            GraphResource::Passes("o'brien@contoso.com".into())
        );
        assert_eq!(
            resource("/v1.0/users(%27%24admin%40contoso.com%27)/sendMail"),
            GraphResource::SendMail("$admin@contoso.com".into())
        );
        assert_eq!(
            resource("/v1.0/users/a%40b/MailboxSettings"),
            GraphResource::MailboxSettings("a@b".into())
        );
        assert_eq!(
            resource("/v1.0/Users/x/Authentication/TemporaryAccessPassMethods/p1"),
            GraphResource::Pass("x".into(), "p1".into())
        );
        assert!(parse("/v1.0/users('a'b')").is_err());
        for slash_form in [
            "/v1.0/users/$admin@contoso.com",
            "/beta/users/%24admin%40contoso.com/sendMail",
        ] {
            let error = parse(slash_form).unwrap_err();
            assert!(
                error.message.contains("refers to a collection"),
                "{slash_form}"
            );
        }
    }

    #[test]
    fn policy_and_unknown_paths() {
        assert_eq!(
            resource(
                "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
            ),
            GraphResource::TapPolicy
        );
        assert_eq!(
            parse("/v2/users/x").unwrap_err().message,
            "Invalid version: v2"
        );
        assert_eq!(
            parse("/v1.0/groups/x").unwrap_err().message,
            "Resource not found for the segment 'groups'."
        );
    }
}
