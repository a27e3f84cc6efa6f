//! The cases of the matrix: the workflow's calls, the faults, how often one strikes, and what
//! each case is expected to show.

use serde_json::{Value, json};

use super::EXPECTED;

/// The job's budget in the "delay past the deadline" cases...
const SHORT_DEADLINE: &str = "3";
/// ...and how long the delayed call would take to answer. The simulator drops the delayed
/// request when the client hangs up, so nothing ever waits this long.
const DELAY_MS: u64 = 20_000;

/// The calls of the workflow, in the order a job makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Call {
    Token,
    User,
    Policy,
    List,
    Delete,
    Create,
    SendMail,
    Check,
}

impl Call {
    pub const ALL: [Call; 8] = [
        Call::Token,
        Call::User,
        Call::Policy,
        Call::List,
        Call::Delete,
        Call::Create,
        Call::SendMail,
        Call::Check,
    ];

    /// The row heading.
    pub fn label(self) -> &'static str {
        match self {
            Call::Token => "token",
            Call::User => "user",
            Call::Policy => "policy",
            Call::List => "list passes",
            Call::Delete => "delete old pass",
            Call::Create => "create pass",
            Call::SendMail => "sendMail",
            Call::Check => "check the new pass",
        }
    }

    /// The simulator's fault selector for this call.
    pub fn selector(self) -> (&'static str, &'static str) {
        const PASSES: &str = "/v1.0/users/*/authentication/temporaryAccessPassMethods";
        match self {
            Call::Token => ("GET", "/msi/token"),
            Call::User => ("GET", "/v1.0/users/*"),
            Call::Policy => ("GET", "/v1.0/policies/**"),
            // The preflight addresses the user as the invocation names her; later reads use
            // her object id.
            Call::List => (
                "GET",
                "/v1.0/users/*@*/authentication/temporaryAccessPassMethods",
            ),
            Call::Check => (
                "GET",
                "/v1.0/users/0a5e7f3c-*/authentication/temporaryAccessPassMethods",
            ),
            Call::Delete => (
                "DELETE",
                "/v1.0/users/*/authentication/temporaryAccessPassMethods/*",
            ),
            Call::Create => ("POST", PASSES),
            Call::SendMail => ("POST", "/v1.0/users/*/sendMail"),
        }
    }

    /// Which call a request the simulator served belongs to.
    pub fn of(method: &str, path: &str) -> Option<Call> {
        const TAP: &str = "temporaryAccessPassMethods";
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let call = match (method, segments.as_slice()) {
            ("GET", ["msi", "token"]) => Call::Token,
            ("GET", ["v1.0", "users", _]) => Call::User,
            ("GET", ["v1.0", "policies", ..]) => Call::Policy,
            ("GET", ["v1.0", "users", user, "authentication", TAP]) if user.contains("%40") => {
                Call::List
            }
            ("GET", ["v1.0", "users", _, "authentication", TAP]) => Call::Check,
            ("POST", ["v1.0", "users", _, "authentication", TAP]) => Call::Create,
            ("DELETE", ["v1.0", "users", _, "authentication", TAP, _]) => Call::Delete,
            ("POST", ["v1.0", "users", _, "sendMail"]) => Call::SendMail,
            _ => return None,
        };
        Some(call)
    }

    /// The step of the job: token, preflight (three reads at once), delete, create, notify.
    pub fn step(self) -> u8 {
        match self {
            Call::Token => 0,
            Call::User | Call::Policy | Call::List => 1,
            Call::Delete => 2,
            Call::Create => 3,
            Call::SendMail | Call::Check => 4,
        }
    }
}

/// What goes wrong with the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// 429 with `Retry-After: 0.05`.
    ThrottledRetryAfter,
    /// 429 without `Retry-After`: the client's own backoff.
    Throttled,
    /// 503; the persistent case sends `Retry-After: 0.05`.
    Unavailable,
    /// 504; the persistent case sends `Retry-After: 0.05`.
    GatewayTimeout,
    /// The request is served, then the connection drops without a response.
    Reset,
    /// The answer would come after the job's deadline.
    DelayPastDeadline,
    /// The request is served; the success status comes with a truncated JSON body.
    Malformed,
    /// 401 `InvalidAuthenticationToken`.
    Unauthorized,
    /// 500: not retried; a create or sendMail may have taken effect.
    ServerError,
    /// 502: as 500.
    BadGateway,
}

impl Fault {
    pub const ALL: [Fault; 10] = [
        Fault::ThrottledRetryAfter,
        Fault::Throttled,
        Fault::Unavailable,
        Fault::GatewayTimeout,
        Fault::Reset,
        Fault::DelayPastDeadline,
        Fault::Malformed,
        Fault::Unauthorized,
        Fault::ServerError,
        Fault::BadGateway,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            Fault::ThrottledRetryAfter => "429, Retry-After 0.05 s",
            Fault::Throttled => "429, no Retry-After",
            Fault::Unavailable => "503",
            Fault::GatewayTimeout => "504",
            Fault::Reset => "connection reset",
            Fault::DelayPastDeadline => "delay past the deadline",
            Fault::Malformed => "malformed 2xx body",
            Fault::Unauthorized => "401",
            Fault::ServerError => "500",
            Fault::BadGateway => "502",
        }
    }

    /// How often the fault strikes in this column's cases. Persistent faults without
    /// `Retry-After` would spend five backoffs (up to 15 s) on an outcome the Retry-After
    /// columns already show, so 429 without it and malformed bodies are only transient; a
    /// delay past the deadline ends the job at its first strike.
    pub fn variants(self) -> &'static [Times] {
        match self {
            Fault::ThrottledRetryAfter
            | Fault::Unavailable
            | Fault::GatewayTimeout
            | Fault::Reset
            | Fault::Unauthorized
            | Fault::ServerError
            | Fault::BadGateway => &[Times::Once, Times::Always],
            Fault::Throttled | Fault::Malformed => &[Times::Once],
            Fault::DelayPastDeadline => &[Times::Always],
        }
    }

    /// The tenant file's fault entry.
    pub fn spec(self, call: Call, times: Times) -> Value {
        let (method, path) = call.selector();
        let mut spec = match (self, times) {
            (Fault::ThrottledRetryAfter, _) => json!({ "status": 429, "retryAfter": 0.05 }),
            (Fault::Throttled, _) => json!({ "status": 429 }),
            (Fault::Unavailable, Times::Once) => json!({ "status": 503 }),
            (Fault::Unavailable, Times::Always) => json!({ "status": 503, "retryAfter": 0.05 }),
            (Fault::GatewayTimeout, Times::Once) => json!({ "status": 504 }),
            (Fault::GatewayTimeout, Times::Always) => {
                json!({ "status": 504, "retryAfter": 0.05 })
            }
            (Fault::Reset, _) => json!({ "reset": true }),
            (Fault::DelayPastDeadline, _) => json!({ "delayMs": DELAY_MS }),
            (Fault::Malformed, _) => json!({ "malformed": true }),
            (Fault::Unauthorized, _) => {
                json!({ "status": 401, "code": "InvalidAuthenticationToken" })
            }
            (Fault::ServerError, _) => json!({ "status": 500 }),
            (Fault::BadGateway, _) => json!({ "status": 502 }),
        };
        spec["method"] = json!(method);
        spec["path"] = json!(path);
        if times == Times::Once {
            spec["times"] = json!(1);
        }
        spec
    }

    /// Extra arguments of the run.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Fault::DelayPastDeadline => &["--deadline", SHORT_DEADLINE],
            _ => &[],
        }
    }
}

/// Transient (the first try only) or persistent (every try).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Times {
    Once,
    Always,
}

/// One run: a call, a fault, and how often it strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Case {
    pub call: Call,
    pub fault: Fault,
    pub times: Times,
}

impl Case {
    /// Every case of the matrix, in table order.
    pub fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for call in Call::ALL {
            for fault in Fault::ALL {
                for &times in fault.variants() {
                    cases.push(Case { call, fault, times });
                }
            }
        }
        cases
    }

    pub fn name(self) -> String {
        format!("{:?} × {:?} × {:?}", self.call, self.fault, self.times)
    }

    /// What the case must show.
    pub fn expected(self) -> &'static str {
        let found: Vec<&'static str> = EXPECTED
            .iter()
            .filter(|(call, fault, times, _)| {
                (*call, *fault, *times) == (self.call, self.fault, self.times)
            })
            .map(|(_, _, _, expect)| *expect)
            .collect();
        assert_eq!(found.len(), 1, "one expectation for {}", self.name());
        found[0]
    }

    /// A guess of how long the case takes, to start the slow ones first: five tries with the
    /// client's own backoff, then the deadline, then one backoff.
    pub fn cost(self) -> u8 {
        let retried_read = matches!(
            self.call,
            Call::User | Call::Policy | Call::List | Call::Delete
        );
        match (self.fault, self.times) {
            (Fault::Reset, Times::Always) if retried_read => 0,
            (Fault::DelayPastDeadline, _) => 1,
            (Fault::Throttled | Fault::Unavailable | Fault::GatewayTimeout, Times::Once)
            | (Fault::Reset | Fault::Malformed, _) => 2,
            _ => 3,
        }
    }
}
