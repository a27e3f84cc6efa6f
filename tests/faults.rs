//! The fault matrix: every call of the workflow × every fault the simulated
//! tenant can inject, each case the real binary against its own simulated tenant. A case
//! checks the final status, error code and exit code, how often the faulted call was tried,
//! that no pass Graph created went unreported, and that the user's old pass survives a failure
//! before the replacement. `expected.rs` holds the outcome of every case; the README's table
//! is rendered from it, and a test keeps the two in step.

mod expected;

use std::collections::BTreeMap;
use std::sync::Arc;

use graph_sim::Simulator;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::common::sim::{invocation, run, tenant};
use expected::EXPECTED;

/// The user whose pass is replaced: she has one pass in the demo tenant.
const ADELE: &str = "adele.vance@contoso.com";
/// A sender with a mailbox, so every case also sends the notification.
const SENDER: &str = "it-service@contoso.com";
/// The job's budget in the "delay past the deadline" cases...
const SHORT_DEADLINE: &str = "3";
/// ...and how long the delayed call would take to answer. The simulator drops the delayed
/// request when the client hangs up, so nothing ever waits this long.
const DELAY_MS: u64 = 20_000;
/// Cases running at once: each starts a process, and most of them just wait.
const CONCURRENT_CASES: usize = 16;

/// The calls of the workflow, in the order a job makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Call {
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
    const ALL: [Call; 8] = [
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
    fn label(self) -> &'static str {
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
    fn selector(self) -> (&'static str, &'static str) {
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
    fn of(method: &str, path: &str) -> Option<Call> {
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
    fn step(self) -> u8 {
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
enum Fault {
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
    const ALL: [Fault; 10] = [
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
    fn label(self) -> &'static str {
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
    fn variants(self) -> &'static [Times] {
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
    fn spec(self, call: Call, times: Times) -> Value {
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
    fn args(self) -> &'static [&'static str] {
        match self {
            Fault::DelayPastDeadline => &["--deadline", SHORT_DEADLINE],
            _ => &[],
        }
    }
}

/// Transient (the first try only) or persistent (every try).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Times {
    Once,
    Always,
}

/// One run: a call, a fault, and how often it strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Case {
    call: Call,
    fault: Fault,
    times: Times,
}

impl Case {
    /// Every case of the matrix, in table order.
    fn all() -> Vec<Case> {
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

    fn name(self) -> String {
        format!("{:?} × {:?} × {:?}", self.call, self.fault, self.times)
    }

    /// What the case must show.
    fn expected(self) -> &'static str {
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
    fn cost(self) -> u8 {
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

/// What one case showed: the outcome as a table cell, and anything that must never happen.
struct Observed {
    cell: String,
    broken: Vec<String>,
    transcript: String,
}

/// Adele's passes as the simulated tenant holds them: id and value.
fn passes(sim: &Simulator) -> Vec<(String, String)> {
    let state = sim.state();
    let user = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == ADELE)
        .expect("Adele is in the demo tenant")
        .clone();
    user["temporaryAccessPasses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let value = p["temporaryAccessPass"].as_str();
            (
                p["id"].as_str().unwrap().to_owned(),
                value.expect("the state shows pass values").to_owned(),
            )
        })
        .collect()
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Runs one case and describes its outcome.
async fn observe(case: Case) -> Observed {
    let sim = tenant(|t| t["faults"] = json!([case.fault.spec(case.call, case.times)])).await;
    let before = passes(&sim);
    assert_eq!(before.len(), 1, "Adele starts with one pass");
    let old_id = before[0].0.clone();
    let params = json!({ "NotifyUser": true, "EmailFrom": SENDER });
    // `run` also checks that no credential, token or pass leaked.
    let run = run(&sim, invocation(ADELE, params), case.fault.args()).await;
    let mut broken = Vec::new();

    let result = run.result();
    let status = result["status"].as_str().unwrap_or("?").to_owned();
    let code = result["error"]["code"].as_str().map(str::to_owned);
    let exit_for_status = match status.as_str() {
        "Completed" => 0,
        "Failed" => 1,
        _ => -1,
    };
    if run.code != exit_for_status {
        broken.push(format!("status {status} but exit code {}", run.code));
    }
    if (status == "Failed") != code.is_some() {
        broken.push(format!("status {status} with error {}", result["error"]));
    }

    let requests = sim.requests();
    let calls: Vec<(Call, Option<u16>)> = requests
        .iter()
        .filter_map(|r| match Call::of(&r.method, &r.path) {
            Some(call) => Some((call, r.status)),
            // The mailbox time-zone read beside the preflight is no row of the matrix.
            None if r.method == "GET" && r.path.ends_with("/mailboxSettings") => None,
            None => {
                broken.push(format!(
                    "a request outside the workflow: {} {}",
                    r.method, r.path
                ));
                None
            }
        })
        .collect();
    let answered = |call: Call| calls.iter().filter(|(c, _)| *c == call).count();
    let tries = answered(case.call);

    // A delayed request is dropped when the job gives up on it, so the simulator never
    // answers it: check instead that the job got exactly as far as the delayed call.
    if case.fault == Fault::DelayPastDeadline {
        let step = case.call.step();
        if tries != 0 || calls.iter().any(|(c, _)| c.step() > step) {
            broken.push("the job went on past the delayed call".into());
        }
        for earlier in Call::ALL.into_iter().filter(|c| c.step() < step) {
            if answered(earlier) == 0 {
                broken.push(format!("the job never made the {earlier:?} call"));
            }
        }
    }

    // No pass lost: a pass the tenant holds that this job created is the one in the result.
    let after = passes(&sim);
    let reported = result["result"]["temporaryAccessPass"].as_str();
    let old_kept = after.iter().any(|(id, _)| *id == old_id);
    let new: Vec<&str> = after
        .iter()
        .filter(|(id, _)| *id != old_id)
        .map(|(_, value)| value.as_str())
        .collect();
    let unreported = new.iter().filter(|v| Some(**v) != reported).count();
    if let Some(pass) = reported
        && !new.contains(&pass)
    {
        broken.push("the reported pass is not the user's pass in the tenant".into());
    }
    if status == "Completed" && (reported.is_none() || new.len() != 1 || old_kept) {
        broken.push(format!(
            "completed, yet the tenant holds {} new pass(es) and the old one: {old_kept}; reported: {}",
            new.len(),
            reported.is_some()
        ));
    }

    // The old pass is never deleted when the job stops before the replacement.
    let deletes = answered(Call::Delete);
    if case.call.step() < Call::Delete.step() && status == "Failed" && (deletes > 0 || !old_kept) {
        broken.push(format!(
            "failed before the replacement, yet {deletes} DELETE(s) were sent; old pass kept: {old_kept}"
        ));
    }
    // Passes an unanswered create made, deleted before creating again.
    let orphans_removed = requests
        .iter()
        .filter(|r| Call::of(&r.method, &r.path) == Some(Call::Delete))
        .filter(|r| !r.path.ends_with(&old_id))
        .count();

    // sendMail is never repeated after a try that went unanswered; at most one mail.
    let mails: Vec<Option<u16>> = calls
        .iter()
        .filter(|(c, _)| *c == Call::SendMail)
        .map(|(_, s)| *s)
        .collect();
    if let Some(i) = mails.iter().position(|s| matches!(s, None | Some(504)))
        && i + 1 < mails.len()
    {
        broken.push(format!(
            "sendMail repeated after an unanswered try: {mails:?}"
        ));
    }
    let outbox = sim.outbox().len();
    let sent = result["result"]["notification"]["sent"] == true;
    if outbox > 1 || (sent && outbox != 1) {
        broken.push(format!(
            "{outbox} mail(s) in the outbox, reported sent: {sent}"
        ));
    }

    let mut cell = match &code {
        None => status.clone(),
        Some(code) => format!("{status}: {code} (exit {})", run.code),
    };
    if case.fault != Fault::DelayPastDeadline {
        cell.push_str(&format!(", {}", count(tries, "try", "tries")));
    }
    if orphans_removed > 0 {
        cell.push_str(&format!(
            ", {}",
            count(orphans_removed, "orphan removed", "orphans removed")
        ));
    }
    if status == "Completed" {
        if !sent {
            cell.push_str(", mail not sent");
        }
    } else {
        cell.push_str(if old_kept {
            ", old pass kept"
        } else {
            ", old pass removed"
        });
        if reported.is_some() {
            cell.push_str(", new pass reported");
        }
    }
    if unreported > 0 {
        cell.push_str(&format!(
            ", {}",
            count(unreported, "unreported pass left", "unreported passes left")
        ));
    }
    let transcript = format!(
        "requests:\n{}\nstdout:\n{}\nstderr:\n{}",
        requests
            .iter()
            .map(|r| format!("  {} {} -> {:?} {:?}", r.method, r.path, r.status, r.fault))
            .collect::<Vec<_>>()
            .join("\n"),
        run.stdout,
        run.stderr
    );
    Observed {
        cell,
        broken,
        transcript,
    }
}

/// Runs the cases, several at once, the slow ones first.
async fn observe_all(mut cases: Vec<Case>) -> BTreeMap<Case, Observed> {
    cases.sort_by_key(|c| (c.cost(), *c));
    let gate = Arc::new(Semaphore::new(CONCURRENT_CASES));
    let mut set = JoinSet::new();
    for case in cases {
        let gate = gate.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            (case, observe(case).await)
        });
    }
    let mut seen = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        let (case, observed) = joined.unwrap();
        seen.insert(case, observed);
    }
    seen
}

/// Fails with every case that differs from `accepts`, each with its transcript.
fn assert_cases(seen: &BTreeMap<Case, Observed>, accepts: impl Fn(Case) -> Vec<&'static str>) {
    let mut failures = String::new();
    for (case, observed) in seen {
        let accepted = accepts(*case);
        if !accepted.contains(&observed.cell.as_str()) || !observed.broken.is_empty() {
            failures.push_str(&format!(
                "\n== {}\n   expected: {}\n   observed: {}\n   broken:   {:?}\n{}\n",
                case.name(),
                accepted.join("  OR  "),
                observed.cell,
                observed.broken,
                observed.transcript
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// Every case, against the outcome `expected.rs` records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let seen = observe_all(Case::all()).await;
    assert_cases(&seen, |case| vec![case.expected()]);
}

/// A sendMail cut off by the deadline once raced the job's own deadline timer; the outcome
/// must be the same every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_cut_off_by_the_deadline_is_always_a_warning() {
    let case = Case {
        call: Call::SendMail,
        fault: Fault::DelayPastDeadline,
        times: Times::Always,
    };
    let seen = observe_all(vec![case; 4]).await;
    assert_cases(&seen, |case| vec![case.expected()]);
}

/// The README section between the fault-matrix markers.
fn readme_section() -> String {
    let mut out = String::new();
    for line in [
        "Each cell is one run of the real binary against its own simulated tenant, in which the",
        "user has a pass and the job is asked to notify her. Rows are the job's calls: the",
        "managed-identity token (`GET /msi/token`), the user, the pass policy and the user's",
        "passes (read at once), deleting the old pass, creating the new one, `sendMail`, and",
        "reading the passes again to check that the new one is still the user's (beside",
        "`sendMail`). The mailbox time-zone read beside the preflight is no row: whatever",
        "happens to it changes only the zone the email shows (`tests/time_zone.rs`). A 500 or",
        "502 is not retried; on a create or `sendMail` it is ambiguous.",
        "*once*: only the first request of the call fails; *always*: every one does (the",
        "persistent 503 and 504 carry `Retry-After: 0.05`). *tries*: requests of the call the",
        "tenant served. *delay past the deadline*: the call would answer after 20 s, the job runs",
        "with `--deadline 3`, and the tenant drops the request when the job hangs up. *old pass",
        "kept/removed*: whether the user's existing pass survived a failed job; *orphan removed*:",
        "a pass made by an unanswered create was deleted before creating again; *new pass",
        "reported*: the failed job's result still carries the pass it created. No case leaves a",
        "pass that the result does not carry unless its cell says so.",
    ] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n| call |");
    for fault in Fault::ALL {
        out.push_str(&format!(" {} |", fault.label()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Fault::ALL.len()));
    out.push('\n');
    for call in Call::ALL {
        out.push_str(&format!("| {} |", call.label()));
        for fault in Fault::ALL {
            let lines: Vec<String> = fault
                .variants()
                .iter()
                .map(|&times| {
                    let case = Case { call, fault, times };
                    let text = case.expected().to_owned();
                    match times {
                        _ if fault == Fault::DelayPastDeadline => text,
                        Times::Once => format!("once: {text}"),
                        Times::Always => format!("always: {text}"),
                    }
                })
                .collect();
            out.push_str(&format!(" {} |", lines.join("<br>")));
        }
        out.push('\n');
    }
    out
}

#[test]
fn every_case_has_one_expectation() {
    let cases = Case::all();
    assert_eq!(
        EXPECTED.len(),
        cases.len(),
        "one row in expected.rs per case"
    );
    for case in cases {
        case.expected();
    }
}

#[test]
fn readme_fault_table_matches_the_suite() {
    crate::common::assert_readme_section("fault-matrix", &readme_section());
}
