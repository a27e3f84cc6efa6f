//! What the simulator observed, for tests and `/_sim/*`: accepted mail and served requests.

use serde::Serialize;
use serde_json::Value;

/// A `sendMail` request the simulated Exchange accepted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// The sender as addressed in the path (`/users/{sender}/sendMail`).
    pub sender: String,
    /// The sender's user object id.
    pub sender_id: String,
    /// The request body as received: the JSON form (`message`, `saveToSentItems`), or for the
    /// MIME form (`Content-Type: text/plain`) its base64 text as a string.
    pub body: Value,
    /// The `request-id` of the request that delivered it.
    pub request_id: String,
}

/// One request the simulator served, in the order the answers went out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path as sent (still percent-encoded).
    pub path: String,
    /// Query string as sent, if any.
    pub query: Option<String>,
    /// Status the client received; `None` when the connection was dropped without a response.
    pub status: Option<u16>,
    /// The injected misbehaviour, if any: `status`, `delay`, `reset`, `malformed` or `throttle`.
    pub fault: Option<String>,
    /// The response's `request-id`.
    pub request_id: String,
    /// The simulator's event count when the request arrived, before any latency.
    pub arrived: u64,
    /// The event count when its answer went out. A request that arrived after another was
    /// answered may have waited for it; requests whose spans overlap ran at the same time.
    pub answered: u64,
}
