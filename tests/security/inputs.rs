//! Inputs that passed every check and then ended the job in a panic after it had reached
//! Graph.

use serde_json::json;

use crate::common::Test;

/// `9999-12-31T23:30:00-05:00` is valid RFC 3339 but has no UTC form: converting it for the
/// create request panicked after preflight.
#[test]
fn a_start_beyond_the_utc_calendar_is_refused_as_input() {
    let invocation = json!({ "UserName": "adele@contoso.com", "CallerName": "admin",
                             "StartDateTime": "9999-12-31T23:30:00-05:00" });
    let run = Test::new()
        .args(["validate", "--invocation", "-"])
        .stdin(invocation.to_string())
        .run();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.problem_fields(), ["parameters.StartDateTime"]);
}
