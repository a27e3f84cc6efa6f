//! The README's fault-matrix section, rendered from the expected outcomes.

use super::{Call, Case, Fault, Times};

/// The README section between the fault-matrix markers.
pub fn readme_section() -> String {
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
