//! Running one case and judging what it showed, step by step: the status and exit code, the
//! calls the tenant served, the passes before and after, and the mail.

use std::collections::BTreeMap;
use std::sync::Arc;

use graph_sim::{RecordedRequest, Simulator};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Call, Case, Fault};
use crate::common::Run;
use crate::common::sim::{ADELE, invocation, passes_of, run, tenant};

/// A sender with a mailbox, so every case also sends the notification.
const SENDER: &str = "it-service@contoso.com";
/// Cases running at once: each starts a process, and most of them just wait.
const CONCURRENT_CASES: usize = 16;

/// What one case showed: the outcome as a table cell, and anything that must never happen.
pub struct Observed {
    cell: String,
    broken: Vec<String>,
    transcript: String,
}

/// Adele's passes as the simulated tenant holds them: id and value.
fn passes(sim: &Simulator) -> Vec<(String, String)> {
    passes_of(sim, ADELE)
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

/// Everything a finished case left behind.
struct Evidence {
    case: Case,
    run: Run,
    result: Value,
    status: String,
    code: Option<String>,
    requests: Vec<RecordedRequest>,
    /// The requests that belong to the workflow, with the status each was answered with.
    calls: Vec<(Call, Option<u16>)>,
    old_id: String,
    outbox: usize,
}

/// What became of the passes: the old one, and the new ones the result does or does not carry.
struct PassOutcome {
    old_kept: bool,
    reported: bool,
    unreported: usize,
}

impl Evidence {
    /// Runs `case` against a tenant of its own in which Adele has one pass.
    async fn gather(case: Case, broken: &mut Vec<String>) -> (Evidence, Vec<(String, String)>) {
        let sim = tenant(|t| t["faults"] = json!([case.fault.spec(case.call, case.times)])).await;
        let before = passes(&sim);
        assert_eq!(before.len(), 1, "Adele starts with one pass");
        let params = json!({ "NotifyUser": true, "EmailFrom": SENDER });
        // `run` also checks that no credential, token or pass leaked.
        let run = run(&sim, invocation(ADELE, params), case.fault.args()).await;
        let result = run.result();
        let requests = sim.requests();
        let calls = requests
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
        let evidence = Evidence {
            case,
            status: result["status"].as_str().unwrap_or("?").to_owned(),
            code: result["error"]["code"].as_str().map(str::to_owned),
            result,
            run,
            requests,
            calls,
            old_id: before[0].0.clone(),
            outbox: sim.outbox().len(),
        };
        (evidence, passes(&sim))
    }

    /// How many requests of `call` the tenant served.
    fn answered(&self, call: Call) -> usize {
        self.calls.iter().filter(|(c, _)| *c == call).count()
    }

    /// The exit code follows the status, and only a failure carries an error.
    fn check_status(&self, broken: &mut Vec<String>) {
        let status = &self.status;
        let exit_for_status = match status.as_str() {
            "Completed" => 0,
            "Failed" => 1,
            _ => -1,
        };
        if self.run.code != exit_for_status {
            broken.push(format!("status {status} but exit code {}", self.run.code));
        }
        if (status == "Failed") != self.code.is_some() {
            broken.push(format!(
                "status {status} with error {}",
                self.result["error"]
            ));
        }
    }

    /// A delayed request is dropped when the job gives up on it, so the simulator never
    /// answers it: check instead that the job got exactly as far as the delayed call.
    fn check_stopped_at_the_delay(&self, broken: &mut Vec<String>) {
        if self.case.fault != Fault::DelayPastDeadline {
            return;
        }
        let step = self.case.call.step();
        if self.answered(self.case.call) != 0 || self.calls.iter().any(|(c, _)| c.step() > step) {
            broken.push("the job went on past the delayed call".into());
        }
        for earlier in Call::ALL.into_iter().filter(|c| c.step() < step) {
            if self.answered(earlier) == 0 {
                broken.push(format!("the job never made the {earlier:?} call"));
            }
        }
    }

    /// No pass lost: a pass the tenant holds that this job created is the one in the result.
    fn check_no_pass_lost(
        &self,
        after: &[(String, String)],
        broken: &mut Vec<String>,
    ) -> PassOutcome {
        let reported = self.result["result"]["temporaryAccessPass"].as_str();
        let old_kept = after.iter().any(|(id, _)| *id == self.old_id);
        let new: Vec<&str> = after
            .iter()
            .filter(|(id, _)| *id != self.old_id)
            .map(|(_, value)| value.as_str())
            .collect();
        let unreported = new.iter().filter(|v| Some(**v) != reported).count();
        if let Some(pass) = reported
            && !new.contains(&pass)
        {
            broken.push("the reported pass is not the user's pass in the tenant".into());
        }
        if self.status == "Completed" && (reported.is_none() || new.len() != 1 || old_kept) {
            broken.push(format!(
                "completed, yet the tenant holds {} new pass(es) and the old one: {old_kept}; reported: {}",
                new.len(),
                reported.is_some()
            ));
        }
        PassOutcome {
            old_kept,
            reported: reported.is_some(),
            unreported,
        }
    }

    /// The old pass is never deleted when the job stops before the replacement.
    fn check_old_pass_kept_before_the_replacement(
        &self,
        passes: &PassOutcome,
        broken: &mut Vec<String>,
    ) {
        let deletes = self.answered(Call::Delete);
        let early = self.case.call.step() < Call::Delete.step();
        if early && self.status == "Failed" && (deletes > 0 || !passes.old_kept) {
            broken.push(format!(
                "failed before the replacement, yet {deletes} DELETE(s) were sent; old pass kept: {}",
                passes.old_kept
            ));
        }
    }

    /// Passes an unanswered create made, deleted before creating again.
    fn orphans_removed(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| Call::of(&r.method, &r.path) == Some(Call::Delete))
            .filter(|r| !r.path.ends_with(&self.old_id))
            .count()
    }

    /// sendMail is never repeated after a try that went unanswered; at most one mail. Returns
    /// whether the result says it was sent.
    fn check_one_mail(&self, broken: &mut Vec<String>) -> bool {
        let mails: Vec<Option<u16>> = self
            .calls
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
        let outbox = self.outbox;
        let sent = self.result["result"]["notification"]["sent"] == true;
        if outbox > 1 || (sent && outbox != 1) {
            broken.push(format!(
                "{outbox} mail(s) in the outbox, reported sent: {sent}"
            ));
        }
        sent
    }

    /// The README cell for the case.
    fn cell(&self, passes: &PassOutcome, sent: bool) -> String {
        let status = &self.status;
        let mut cell = match &self.code {
            None => status.clone(),
            Some(code) => format!("{status}: {code} (exit {})", self.run.code),
        };
        if self.case.fault != Fault::DelayPastDeadline {
            let tries = self.answered(self.case.call);
            cell.push_str(&format!(", {}", count(tries, "try", "tries")));
        }
        let orphans_removed = self.orphans_removed();
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
            cell.push_str(if passes.old_kept {
                ", old pass kept"
            } else {
                ", old pass removed"
            });
            if passes.reported {
                cell.push_str(", new pass reported");
            }
        }
        if passes.unreported > 0 {
            cell.push_str(&format!(
                ", {}",
                count(
                    passes.unreported,
                    "unreported pass left",
                    "unreported passes left"
                )
            ));
        }
        cell
    }

    /// The requests and the run's output, shown when the case fails.
    fn transcript(&self) -> String {
        format!(
            "requests:\n{}\nstdout:\n{}\nstderr:\n{}",
            self.requests
                .iter()
                .map(|r| format!("  {} {} -> {:?} {:?}", r.method, r.path, r.status, r.fault))
                .collect::<Vec<_>>()
                .join("\n"),
            self.run.stdout,
            self.run.stderr
        )
    }
}

/// Runs one case and describes its outcome.
async fn observe(case: Case) -> Observed {
    let mut broken = Vec::new();
    let (evidence, after) = Evidence::gather(case, &mut broken).await;
    evidence.check_status(&mut broken);
    evidence.check_stopped_at_the_delay(&mut broken);
    let passes = evidence.check_no_pass_lost(&after, &mut broken);
    evidence.check_old_pass_kept_before_the_replacement(&passes, &mut broken);
    let sent = evidence.check_one_mail(&mut broken);
    Observed {
        cell: evidence.cell(&passes, sent),
        broken,
        transcript: evidence.transcript(),
    }
}

/// Runs the cases, several at once, the slow ones first.
pub async fn observe_all(mut cases: Vec<Case>) -> BTreeMap<Case, Observed> {
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
pub fn assert_cases(seen: &BTreeMap<Case, Observed>, accepts: impl Fn(Case) -> Vec<&'static str>) {
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
