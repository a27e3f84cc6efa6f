//! What happens around every served request: request ids, latency, faults, the write
//! throttle, the request log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::connection::ConnectionSwitch;
use super::envelope::{GraphError, RequestContext, finish};
use super::records::RecordedRequest;
use super::state::{SimulatorState, lock};
use super::tenant_file::FaultSpec;

/// How a request was made to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misbehaviour {
    Status,
    Delay,
    Reset,
    Malformed,
    Throttle,
}

impl Misbehaviour {
    fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Delay => "delay",
            Self::Reset => "reset",
            Self::Malformed => "malformed",
            Self::Throttle => "throttle",
        }
    }
}

/// Middleware for the Graph and token routes (not `/_sim/*`).
pub(crate) async fn pipeline(
    State(sim): State<Arc<SimulatorState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let arrived = sim.events.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let ctx = RequestContext::new(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let switch = request
        .extensions()
        .get::<ConnectInfo<ConnectionSwitch>>()
        .map(|ConnectInfo(s)| s.clone());
    request.extensions_mut().insert(ctx.clone());

    if !sim.latency.is_zero() {
        tokio::time::sleep(sim.latency).await;
    }
    let fault = lock(&sim.faults).take(&method, &path);
    let (response, misbehaviour) = match fault {
        Some(fault) => apply_fault(fault, request, next, &ctx, switch.as_ref()).await,
        None => match throttle(&sim, &method, &path) {
            Err(refusal) => (refusal.into_response(), Some(Misbehaviour::Throttle)),
            Ok(()) => (next.run(request).await, None),
        },
    };
    let response = finish(response, &ctx);

    let status = (misbehaviour != Some(Misbehaviour::Reset)).then(|| response.status().as_u16());
    if sim.log_requests.load(std::sync::atomic::Ordering::Relaxed) {
        // The path only: a query may carry a client's values, and no header is shown.
        eprintln!(
            "{} {} {} {} {}ms",
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            method,
            log_safe(&path),
            status.map_or_else(|| "reset".to_owned(), |s| s.to_string()),
            started.elapsed().as_millis()
        );
    }
    lock(&sim.requests).push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        status,
        fault: misbehaviour.map(|m| m.as_str().to_owned()),
        request_id: ctx.request_id.clone(),
        arrived,
        answered: sim.events.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
    });
    response
}

async fn apply_fault(
    fault: FaultSpec,
    request: Request,
    next: Next,
    ctx: &RequestContext,
    switch: Option<&ConnectionSwitch>,
) -> (Response, Option<Misbehaviour>) {
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if let Some(status) = fault.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if fault.after_effect {
            // The work is done and its answer thrown away: only the status reaches the client.
            drop(next.run(request).await);
        }
        if let Some(body) = &fault.body {
            return (
                (status, axum::Json(body.clone())).into_response(),
                Some(Misbehaviour::Status),
            );
        }
        let mut error = GraphError::for_status(status);
        if let Some(code) = fault.code {
            error.code = code;
        }
        if let Some(message) = fault.message {
            error.message = message;
        }
        if let Some(retry_after) = fault.retry_after {
            error = error.with_retry_after(retry_after.header_value());
        }
        return (error.into_response(), Some(Misbehaviour::Status));
    }
    // Reset and malformed both let the request take effect first: the ambiguous failure a
    // client must handle is "it happened, but I never heard back (properly)".
    let response = finish(next.run(request).await, ctx);
    if fault.reset {
        if let Some(switch) = switch {
            switch.sever();
        }
        return (response, Some(Misbehaviour::Reset));
    }
    if fault.malformed {
        return (truncate_body(response).await, Some(Misbehaviour::Malformed));
    }
    (response, Some(Misbehaviour::Delay))
}

/// Cuts the body in half, keeping status and headers; an empty body becomes an unterminated
/// JSON object so there is always something to fail parsing.
async fn truncate_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let truncated = if bytes.is_empty() {
        axum::body::Bytes::from_static(b"{\"value\":[")
    } else {
        bytes.slice(..bytes.len().div_ceil(2))
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(truncated))
}

/// Applies the write budget to Graph writes.
fn throttle(sim: &SimulatorState, method: &Method, path: &str) -> Result<(), GraphError> {
    let Some(throttle) = &sim.throttle else {
        return Ok(());
    };
    let is_write = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let lower = path.to_ascii_lowercase();
    let is_graph = lower.starts_with("/v1.0/") || lower.starts_with("/beta/");
    if !(is_write && is_graph) {
        return Ok(());
    }
    lock(throttle).admit(Instant::now()).map_err(|wait| {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        GraphError::for_status(StatusCode::TOO_MANY_REQUESTS).with_retry_after(seconds.to_string())
    })
}

/// `path` for the request log on stderr: controls and the marks that reorder text are written
/// as `\u{…}` escapes, so a request cannot forge or garble log lines.
fn log_safe(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        let reorders = matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        );
        if c.is_control() || reorders {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}
