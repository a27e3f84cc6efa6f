//! The fault matrix: every call of the workflow × every fault the simulated
//! tenant can inject, each case the real binary against its own simulated tenant. A case
//! checks the final status, error code and exit code, how often the faulted call was tried,
//! that no pass Graph created went unreported, and that the user's old pass survives a failure
//! before the replacement. `cases.rs` names the cases, `observe.rs` runs and judges one,
//! `expected.rs` holds the outcome of every case; the README's table (`readme.rs`) is
//! rendered from it, and a test keeps the two in step.

mod cases;
mod expected;
mod observe;
mod readme;

use cases::{Call, Case, Fault, Times};
use expected::EXPECTED;
use observe::{assert_cases, observe_all};

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
    crate::common::assert_readme_section("fault-matrix", &readme::readme_section());
}
