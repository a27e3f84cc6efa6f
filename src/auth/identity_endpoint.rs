//! The local managed-identity token endpoints: Azure Automation and App Service
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), hybrid workers' legacy protocol (`MSI_*`) and an
//! Azure Arc-enabled server's agent (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`). azure_identity
//! refuses the legacy and Arc protocols and reads `expires_on` only as an epoch string, which
//! Automation has not always sent, so all three are spoken here.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::Value;
use time::OffsetDateTime;

use super::AccessToken;
use super::azure_arc::ArcTokensFolder;
use super::expiry::token_expiry;
use super::token::is_bearer_token;
use crate::net::{
    BodyError, MAX_RESPONSE_BYTES, RetryPolicy, error_chain, read_body, redacted_url, retry_after,
};
use crate::secret::Secret;

/// When a response gives no expiry, ask again after this long rather than trust it for hours.
const UNSTATED_LIFETIME: Duration = Duration::from_secs(300);

/// Which protocol the endpoint speaks, with what it takes to be answered.
pub(crate) enum Protocol {
    /// `api-version=2019-08-01`, header `X-IDENTITY-HEADER`, `client_id=` for a user-assigned
    /// identity.
    AppService(Secret),
    /// `api-version=2017-09-01`, header `secret`, `clientid=` for a user-assigned identity.
    LegacyMsi(Secret),
    /// `api-version=2020-06-01`, system-assigned only: a 401 names a key file in the agent's
    /// tokens folder, and the request is repeated with `Authorization: Basic <key>`.
    AzureArc(ArcTokensFolder),
}

/// One answer of the endpoint, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// How one token request failed.
enum TokenFailure {
    /// Asking again may work.
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The endpoint refused; asking again will not change that.
    Final(String),
}

/// A local managed-identity token endpoint.
pub(crate) struct IdentityEndpoint {
    pub protocol: Protocol,
    pub endpoint: Url,
    pub client_id: Option<String>,
    pub http: reqwest::Client,
}

impl IdentityEndpoint {
    /// Requests a token for `resource` (the Graph host, the v1 form of the scope). Throttling,
    /// server errors, dropped connections and broken answers are retried with the Graph
    /// client's policy: the request changes nothing, and Automation's endpoint does answer 429
    /// and 5xx under load. The caller bounds the whole exchange in time.
    pub(crate) async fn request_token(&self, resource: &str) -> Result<AccessToken, String> {
        let policy = RetryPolicy::default();
        let mut tries = 0;
        loop {
            tries += 1;
            let (error, asked) = match self.try_once(resource).await {
                Ok(token) => return Ok(token),
                Err(TokenFailure::Final(message)) => return Err(message),
                Err(TokenFailure::Transient {
                    message,
                    retry_after,
                }) => (message, retry_after),
            };
            if tries >= policy.max_tries {
                return Err(format!("{error} (after {tries} tries)"));
            }
            let wait = match asked {
                Some(asked) => policy.server_wait(asked),
                None => policy.backoff(tries),
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn try_once(&self, resource: &str) -> Result<AccessToken, TokenFailure> {
        let (api_version, id_parameter) = match self.protocol {
            Protocol::AppService(_) => ("2019-08-01", "client_id"),
            Protocol::LegacyMsi(_) => ("2017-09-01", "clientid"),
            Protocol::AzureArc(_) => ("2020-06-01", "client_id"),
        };
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("resource", resource);
            query.append_pair("api-version", api_version);
            if let Some(client_id) = &self.client_id {
                query.append_pair(id_parameter, client_id);
            }
        }
        let request = || self.http.get(url.clone()).header("Metadata", "true");
        let answer = match &self.protocol {
            Protocol::AppService(header) => {
                self.send(request().header("X-IDENTITY-HEADER", header.expose()))
                    .await?
            }
            Protocol::LegacyMsi(secret) => {
                self.send(request().header("secret", secret.expose()))
                    .await?
            }
            Protocol::AzureArc(folder) => {
                let challenge = self.send(request()).await?;
                if challenge.status != StatusCode::UNAUTHORIZED {
                    challenge
                } else {
                    // Nothing is read, and nothing sent, unless the realm passes every check.
                    let key = folder
                        .answer(&challenge.headers)
                        .map_err(TokenFailure::Final)?;
                    let mut basic = HeaderValue::from_str(&format!("Basic {}", key.expose()))
                        .map_err(|_| {
                            TokenFailure::Final("the agent's key is not a header value".into())
                        })?;
                    basic.set_sensitive(true);
                    let mut answer = self.send(request().header(AUTHORIZATION, basic)).await?;
                    // What the endpoint says is quoted in messages; it must not quote the key.
                    answer.body = redact(&answer.body, key.expose());
                    if answer.status == StatusCode::UNAUTHORIZED {
                        return Err(TokenFailure::Final(format!(
                            "the endpoint did not accept the agent's key ({})",
                            describe_failure(answer.status, &answer.body)
                        )));
                    }
                    answer
                }
            }
        };
        if answer.status == StatusCode::TOO_MANY_REQUESTS || answer.status.is_server_error() {
            return Err(TokenFailure::Transient {
                message: describe_failure(answer.status, &answer.body),
                retry_after: retry_after(&answer.headers),
            });
        }
        if !answer.status.is_success() {
            return Err(TokenFailure::Final(describe_failure(
                answer.status,
                &answer.body,
            )));
        }
        parse_token(&answer.body, OffsetDateTime::now_utc()).map_err(|message| {
            TokenFailure::Transient {
                message,
                retry_after: None,
            }
        })
    }

    /// Sends one request and reads the whole answer; a failure to connect or read may pass.
    async fn send(&self, request: RequestBuilder) -> Result<Answer, TokenFailure> {
        let transient = |message: String| TokenFailure::Transient {
            message,
            retry_after: None,
        };
        let response = request.send().await.map_err(|e| {
            transient(format!(
                "the endpoint {} did not answer ({})",
                redacted_url(&self.endpoint),
                error_chain(&e)
            ))
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| match e {
                // A larger answer next time would be just as unusable.
                BodyError::TooLarge => TokenFailure::Final(e.to_string()),
                BodyError::Transfer(_) => transient(format!("the answer broke off ({e})")),
            })?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// Reads `{"access_token", "expires_on", "expires_in", …}`.
fn parse_token(body: &[u8], now: OffsetDateTime) -> Result<AccessToken, String> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a JSON token response".to_owned())?;
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?;
    if !is_bearer_token(token) {
        return Err("the token in the answer is not a bearer token".to_owned());
    }
    let expires_at = token_expiry(json.get("expires_on"), json.get("expires_in"), now)
        .unwrap_or(now + UNSTATED_LIFETIME);
    Ok(AccessToken {
        token: Secret::new(token),
        expires_at,
    })
}

/// The status and the endpoint's own explanation, which names the problem (an identity not
/// assigned, a wrong client id) without echoing anything secret.
fn describe_failure(status: StatusCode, body: &[u8]) -> String {
    let explanation = serde_json::from_slice::<Value>(body).ok().and_then(|json| {
        ["error_description", "message", "Message", "error"]
            .iter()
            .find_map(|key| match json.get(key) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(o)) => {
                    o.get("message").and_then(Value::as_str).map(str::to_owned)
                }
                _ => None,
            })
    });
    match explanation {
        Some(text) => format!("HTTP {status}: {}", truncate(&text, 300)),
        None => format!("HTTP {status}"),
    }
}

/// `body` with every occurrence of `secret` replaced by `***`.
fn redact(body: &[u8], secret: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    if secret.is_empty() || !text.contains(secret) {
        return body.to_vec();
    }
    text.replace(secret, "***").into_bytes()
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn token_without_expiry_is_short_lived() {
        let now = datetime!(2026-11-29 10:00:00 UTC);
        let token = parse_token(br#"{"access_token":"t"}"#, now).unwrap();
        assert_eq!(token.expires_at, datetime!(2026-11-29 10:05:00 UTC));
        assert!(parse_token(br#"{"access_token":""}"#, now).is_err());
        assert!(parse_token(b"nope", now).is_err());
    }

    /// reqwest's error text carried the whole URL: the user part, and the query with the
    /// resource, the client id and whatever the endpoint variable itself held.
    #[tokio::test]
    async fn an_unreachable_endpoint_is_named_without_its_user_part_or_query() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let endpoint = IdentityEndpoint {
            protocol: Protocol::AppService(Secret::new("identity-header")),
            endpoint: Url::parse(&format!(
                "http://svc:hunter2@127.0.0.1:{port}/msi/token?sig=s3cr3t"
            ))
            .unwrap(),
            client_id: Some("uami-1".into()),
            http: reqwest::Client::new(),
        };
        let Err(TokenFailure::Transient { message, .. }) =
            endpoint.try_once("https://graph.microsoft.com").await
        else {
            panic!("a refused connection is worth another try");
        };
        assert!(
            message.starts_with(&format!(
                "the endpoint http://127.0.0.1:{port}/msi/token did not answer ("
            )),
            "{message}"
        );
        for secret in [
            "hunter2",
            "svc",
            "s3cr3t",
            "sig=",
            "resource",
            "uami-1",
            "identity-header",
        ] {
            assert!(!message.contains(secret), "{secret} in {message}");
        }
    }

    #[test]
    fn an_answer_quoting_the_key_is_redacted() {
        let body = br#"{"error":"unauthorized","error_description":"key k3y-v4lue is stale"}"#;
        let text = describe_failure(StatusCode::UNAUTHORIZED, &redact(body, "k3y-v4lue"));
        assert_eq!(text, "HTTP 401 Unauthorized: key *** is stale");
        assert_eq!(redact(b"plain", "k3y"), b"plain");
    }

    #[test]
    fn failures_carry_the_endpoint_explanation() {
        let text = describe_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_request","error_description":"Identity not found"}"#,
        );
        assert_eq!(text, "HTTP 400 Bad Request: Identity not found");
        assert_eq!(
            describe_failure(StatusCode::INTERNAL_SERVER_ERROR, b""),
            "HTTP 500 Internal Server Error"
        );
    }
}
