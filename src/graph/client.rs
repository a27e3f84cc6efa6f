//! The Graph client: base URL, bearer token, and the one retry loop every call goes through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url, header};
use serde_json::Value;
use tokio::time::Instant;

use super::error::{GraphCall, GraphError, GraphErrorKind};
use crate::auth::{AccessToken, Credential};
use crate::job::JobLog;
use crate::net::{BodyError, MAX_RESPONSE_BYTES, RetryPolicy, error_chain, read_body, retry_after};

/// Where and how the client talks to Graph.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// Graph's base URL, e.g. `https://graph.microsoft.com` (see [`crate::net::Cloud`] and
    /// [`crate::net::validate_graph_url`]).
    pub base_url: Url,
    /// The API version segment, `v1.0`.
    pub api_version: String,
    /// The job's deadline: no request runs and no retry waits past it.
    pub deadline: Instant,
    /// The longest a single request may take, body included.
    pub request_timeout: Duration,
    /// When and how often to retry.
    pub retry: RetryPolicy,
}

impl GraphConfig {
    /// Production settings for `base_url` with the job's deadline: `v1.0`, a 30 s request
    /// timeout and the default retry policy.
    pub fn new(base_url: Url, deadline: Instant) -> Self {
        Self {
            base_url,
            api_version: "v1.0".into(),
            deadline,
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// What a look for a not-yet-replicated user leaves of the deadline for the look itself.
const REPLICATION_LOOK_RESERVE: Duration = Duration::from_secs(1);

/// One HTTP exchange with Graph, as the client saw it. For tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphAttempt {
    /// The call it belonged to.
    pub call: GraphCall,
    /// The HTTP method.
    pub method: String,
    /// The path, percent-encoded as sent, without the query.
    pub path: String,
    /// The status Graph answered with; `None` when no answer came.
    pub status: Option<u16>,
}

/// What to do when Graph answers 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnNotFound {
    /// Report it.
    Fail,
    /// Look again a few times: a new user may not have replicated yet.
    WaitForReplication,
}

/// What the call expects in a success body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A JSON document.
    Json,
    /// Nothing worth reading (204, 202).
    Nothing,
}

/// One Graph call, described once and sent by [`GraphClient::send`] as often as it takes.
pub(crate) struct GraphRequest<'a> {
    pub call: GraphCall,
    pub method: Method,
    /// The path after the API version, already encoded (see [`super::UserRef`]).
    pub path: String,
    pub query: Option<&'static str>,
    pub body: Option<&'a Value>,
    pub expect: Expect,
    pub on_not_found: OnNotFound,
    /// An answer that has not arrived by then counts as no answer, so the caller has time
    /// left before the deadline to find out what the request did.
    pub reply_by: Option<Instant>,
}

/// How one try ended.
enum Exchange {
    /// Graph answered.
    Answered {
        status: StatusCode,
        headers: header::HeaderMap,
        /// The body, or why it could not be read in full.
        body: Result<Vec<u8>, String>,
    },
    /// No connection: the request never left, so any call may be repeated.
    NotSent(String),
    /// The request may have been sent but no answer came.
    NoAnswer(String),
    /// The deadline ended the request.
    Deadline,
}

/// Why a try failed in a way that another try may fix.
struct Transient {
    /// The error to report if this was the last try.
    error: GraphError,
    /// What the server asked us to wait.
    retry_after: Option<Duration>,
}

/// The Microsoft Graph client. Cheap to share behind an `Arc`; calls may run concurrently.
pub struct GraphClient {
    http: reqwest::Client,
    config: GraphConfig,
    credential: Arc<Credential>,
    log: JobLog,
    attempts: Mutex<Vec<GraphAttempt>>,
}

impl GraphClient {
    /// A client sending through `http` (see [`crate::net::build_http_client`]) with tokens from
    /// `credential`, logging each exchange and retry to `log` at Verbose.
    pub fn new(
        config: GraphConfig,
        http: reqwest::Client,
        credential: Arc<Credential>,
        log: JobLog,
    ) -> Self {
        Self {
            http,
            config,
            credential,
            log,
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// Every HTTP exchange so far, in order.
    pub fn attempts(&self) -> Vec<GraphAttempt> {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The configuration in use.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Sends one call with the one retry policy (README, "Graph behaviour") and returns the
    /// success body (`None` for [`Expect::Nothing`]; a delete found already done is a 404 error
    /// that the delete call reads as done). Each
    /// try is sent and recorded, its outcome judged, and the call ends, looks again, or waits
    /// for the next try.
    pub(crate) async fn send(
        &self,
        request: &GraphRequest<'_>,
    ) -> Result<Option<Value>, GraphError> {
        let call = request.call;
        let url = self.url(request)?;
        let policy = &self.config.retry;
        let mut failures = 0u32;
        let mut lag_retries = 0u32;
        let mut refreshed = false;
        let mut force_refresh = false;
        loop {
            let token = self.token(call, force_refresh).await?;
            force_refresh = false;
            let started = Instant::now();
            let exchange = self.exchange(request, &url, &token).await;
            self.record(request, &url, &exchange, started);
            let transient = match judge(request, exchange) {
                Verdict::Done(outcome) => return outcome,
                Verdict::Transient(transient) => transient,
                Verdict::TokenRefused(_) if !refreshed => {
                    refreshed = true;
                    force_refresh = true;
                    self.log.verbose(format!(
                        "Graph refused the access token while {call}; getting a fresh one and trying once more"
                    ));
                    continue;
                }
                Verdict::TokenRefused(error) => {
                    return Err(GraphError {
                        message: format!(
                            "Graph refused a freshly issued access token: {}",
                            error.message
                        ),
                        ..error
                    });
                }
                Verdict::NotFoundYet(error) if lag_retries < policy.user_lag_retries => {
                    lag_retries += 1;
                    self.wait_for_replication(call, lag_retries, error).await?;
                    continue;
                }
                Verdict::NotFoundYet(error) => return Err(error),
            };
            failures += 1;
            self.wait_to_retry(call, failures, transient).await?;
        }
    }

    /// Waits before look number `look` for a user Graph does not know yet. The looks fit the
    /// deadline: a short job still learns that the user does not exist, rather than timing
    /// out, which a job host would retry.
    async fn wait_for_replication(
        &self,
        call: GraphCall,
        look: u32,
        not_found: GraphError,
    ) -> Result<(), GraphError> {
        let Some(wait) = self.replication_wait() else {
            return Err(not_found);
        };
        self.wait(call, wait, || {
            format!(
                "not found yet (a new user can take a few seconds to replicate); look {look} of {}",
                self.config.retry.user_lag_retries
            )
        })
        .await
    }

    /// Waits before retry number `failures` as the server asked or by backoff, or gives up
    /// with the failure's error once the policy's tries are spent.
    async fn wait_to_retry(
        &self,
        call: GraphCall,
        failures: u32,
        transient: Transient,
    ) -> Result<(), GraphError> {
        let policy = &self.config.retry;
        if failures >= policy.max_tries {
            return Err(transient.error);
        }
        let (wait, source) = match transient.retry_after {
            Some(asked) => (policy.server_wait(asked), "as Graph asked"),
            None => (policy.backoff(failures), "backoff"),
        };
        let reason = transient.error.summary();
        self.wait(call, wait, || {
            format!(
                "{reason}; retry {failures} of {} ({source})",
                policy.max_tries - 1
            )
        })
        .await
    }

    /// The full URL of a request; its query never comes from input.
    fn url(&self, request: &GraphRequest<'_>) -> Result<Url, GraphError> {
        let base = self.config.base_url.as_str().trim_end_matches('/');
        let text = format!("{base}/{}{}", self.config.api_version, request.path);
        let mut url = Url::parse(&text).map_err(|e| {
            GraphError::new(
                GraphErrorKind::InvalidResponse,
                request.call,
                format!("cannot build the Graph URL: {e}"),
            )
        })?;
        url.set_query(request.query);
        Ok(url)
    }

    /// A token, bounded by the deadline.
    async fn token(&self, call: GraphCall, force_refresh: bool) -> Result<AccessToken, GraphError> {
        match tokio::time::timeout_at(self.config.deadline, self.credential.token(force_refresh))
            .await
        {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(e)) => Err(GraphError::new(
                GraphErrorKind::AuthenticationFailed,
                call,
                e.to_string(),
            )),
            Err(_) => Err(deadline_error(call)),
        }
    }

    /// One try: send, then read the body (at most [`MAX_RESPONSE_BYTES`]) within the request
    /// timeout.
    async fn exchange(
        &self,
        request: &GraphRequest<'_>,
        url: &Url,
        token: &AccessToken,
    ) -> Exchange {
        let now = Instant::now();
        if now >= self.config.deadline {
            return Exchange::Deadline;
        }
        let answer_by = request
            .reply_by
            .map_or(self.config.deadline, |t| t.min(self.config.deadline));
        let timeout = self
            .config
            .request_timeout
            .min(answer_by.saturating_duration_since(now));
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .bearer_auth(token.token.expose())
            .header(header::ACCEPT, "application/json")
            .timeout(timeout);
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return self.transport_failure(&e),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match read_body(response, MAX_RESPONSE_BYTES).await {
            Ok(bytes) => Ok(bytes),
            Err(BodyError::Transfer(_)) if Instant::now() >= self.config.deadline => {
                return Exchange::Deadline;
            }
            Err(e) => Err(e.to_string()),
        };
        Exchange::Answered {
            status,
            headers,
            body,
        }
    }

    fn transport_failure(&self, e: &reqwest::Error) -> Exchange {
        if e.is_timeout() && Instant::now() >= self.config.deadline {
            Exchange::Deadline
        } else if e.is_connect() || e.is_builder() {
            // A request that could not even be built (say, a header value reqwest refuses)
            // never left: it cannot have taken effect.
            Exchange::NotSent(error_chain(e))
        } else {
            Exchange::NoAnswer(error_chain(e))
        }
    }

    /// The wait before another look for a user Graph does not know yet: the policy's delay,
    /// shortened so the look still ends well before the deadline; `None` when no look fits.
    fn replication_wait(&self) -> Option<Duration> {
        let left = self
            .config
            .deadline
            .saturating_duration_since(Instant::now());
        // Room for the look itself and for the job to report what it found.
        let room = left.saturating_sub(REPLICATION_LOOK_RESERVE);
        (!room.is_zero()).then(|| self.config.retry.user_lag_delay.min(room))
    }

    /// Waits before another try, unless the wait would end past the deadline.
    async fn wait(
        &self,
        call: GraphCall,
        wait: Duration,
        why: impl FnOnce() -> String,
    ) -> Result<(), GraphError> {
        let why = why();
        if Instant::now() + wait >= self.config.deadline {
            return Err(GraphError::new(
                GraphErrorKind::Timeout,
                call,
                format!("the job's deadline would pass before the next try ({why})"),
            ));
        }
        self.log.verbose(format!(
            "Graph {call}: {why}; waiting {:.3} s",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn record(&self, request: &GraphRequest<'_>, url: &Url, exchange: &Exchange, started: Instant) {
        let status = match exchange {
            Exchange::Answered { status, .. } => Some(status.as_u16()),
            _ => None,
        };
        let elapsed = started.elapsed().as_millis();
        let outcome = match exchange {
            Exchange::Answered { status, .. } => status.as_u16().to_string(),
            Exchange::NotSent(reason) => format!("no connection ({reason})"),
            Exchange::NoAnswer(reason) => format!("no answer ({reason})"),
            Exchange::Deadline => "stopped at the deadline".into(),
        };
        self.log.verbose(format!(
            "Graph {} {} -> {outcome} in {elapsed} ms",
            request.method,
            url.path()
        ));
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(GraphAttempt {
                call: request.call,
                method: request.method.to_string(),
                path: url.path().to_owned(),
                status,
            });
    }
}

/// What one try's outcome means for the call.
enum Verdict {
    /// The call is over: its success body or the error to report.
    Done(Result<Option<Value>, GraphError>),
    /// A failure another try may fix.
    Transient(Transient),
    /// Graph answered 401: a fresh token may be accepted.
    TokenRefused(GraphError),
    /// Graph answered 404 to a call that waits for replication.
    NotFoundYet(GraphError),
}

/// Judges one try. Only a try that cannot have taken effect, or an idempotent one, is
/// transient: a POST that may have been carried out is reported as ambiguous for the caller
/// to reconcile.
fn judge(request: &GraphRequest<'_>, exchange: Exchange) -> Verdict {
    let call = request.call;
    let idempotent = request.method == Method::GET || request.method == Method::DELETE;
    let unavailable = |message: String| {
        Verdict::Transient(Transient {
            error: GraphError::new(GraphErrorKind::Unavailable, call, message),
            retry_after: None,
        })
    };
    match exchange {
        Exchange::Deadline => Verdict::Done(Err(deadline_error(call))),
        Exchange::NotSent(reason) => unavailable(format!("no connection to Graph: {reason}")),
        Exchange::NoAnswer(reason) if idempotent => {
            unavailable(format!("no answer from Graph: {reason}"))
        }
        Exchange::NoAnswer(reason) => Verdict::Done(Err(GraphError::new(
            GraphErrorKind::Ambiguous,
            call,
            format!(
                "the request was sent but no answer came back ({reason}); it may or may not have taken effect"
            ),
        ))),
        Exchange::Answered {
            status,
            headers,
            body,
        } => judge_answer(request, idempotent, status, &headers, &body),
    }
}

/// Judges an answer by its status: success, a refused token, a user not replicated yet,
/// throttling, an unavailable service, or a refusal.
fn judge_answer(
    request: &GraphRequest<'_>,
    idempotent: bool,
    status: StatusCode,
    headers: &header::HeaderMap,
    body: &Result<Vec<u8>, String>,
) -> Verdict {
    let request_id = header_text(headers, "request-id");
    let from_response = |kind| {
        GraphError::from_response(
            kind,
            request.call,
            status.as_u16(),
            request_id.clone(),
            body.as_deref().unwrap_or_default(),
        )
    };
    if status.is_success() {
        return match success_body(request.expect, body) {
            Ok(value) => Verdict::Done(Ok(value)),
            Err(reason) if idempotent => Verdict::Transient(Transient {
                error: GraphError {
                    message: format!("Graph sent an unreadable answer: {reason}"),
                    ..from_response(GraphErrorKind::Unavailable)
                },
                retry_after: None,
            }),
            Err(reason) => Verdict::Done(Err(GraphError {
                message: format!(
                    "Graph answered {status} but the answer was unreadable ({reason}); the change may have taken effect"
                ),
                ..from_response(GraphErrorKind::Ambiguous)
            })),
        };
    }
    let transient = |kind| {
        Verdict::Transient(Transient {
            error: from_response(kind),
            retry_after: retry_after(headers),
        })
    };
    match status.as_u16() {
        401 => Verdict::TokenRefused(from_response(GraphErrorKind::AuthenticationFailed)),
        404 if request.on_not_found == OnNotFound::WaitForReplication => {
            Verdict::NotFoundYet(from_response(GraphErrorKind::Rejected))
        }
        429 => transient(GraphErrorKind::Throttled),
        // A server error or a gateway timeout may hide work the backend finished: repeating a
        // create or a sendMail could do it twice, so the caller reconciles.
        500 | 502 | 504 if request.method == Method::POST => {
            Verdict::Done(Err(from_response(GraphErrorKind::Ambiguous)))
        }
        503 | 504 => transient(GraphErrorKind::Unavailable),
        _ => Verdict::Done(Err(from_response(GraphErrorKind::Rejected))),
    }
}

fn deadline_error(call: GraphCall) -> GraphError {
    GraphError::new(
        GraphErrorKind::Timeout,
        call,
        "the job's deadline passed before Graph answered",
    )
}

/// The success body as the call expects it, or why it is unusable.
fn success_body(expect: Expect, body: &Result<Vec<u8>, String>) -> Result<Option<Value>, String> {
    match expect {
        // The status is the answer; a body that broke off after it changes nothing.
        Expect::Nothing => Ok(None),
        Expect::Json => {
            let bytes = body.as_ref().map_err(Clone::clone)?;
            serde_json::from_slice(bytes)
                .map(Some)
                .map_err(|e| format!("malformed JSON ({e})"))
        }
    }
}

fn header_text(headers: &header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
