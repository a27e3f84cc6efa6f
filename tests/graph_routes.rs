//! The binary held to Graph's metadata: it calls only the routes whose answers the simulator's
//! conformance tests check against Graph's CSDL, it reads the user with the query those tests
//! use, and the mail it sends is a `message` Graph can read.

use serde_json::json;

use crate::common::sim::{self, ADELE};

// The simulator crate's checker and route list, so both suites hold to one list.
#[path = "../crates/graph-sim/tests/csdl.rs"]
#[allow(dead_code)] // Type listings the simulator's own tests use.
mod csdl;
#[path = "../crates/graph-sim/tests/routes.rs"]
mod routes;

use csdl::{Csdl, Direction, object_properties};
use routes::{CHECKED_ROUTES, CLIENT_USER_QUERY, route_shape};

#[tokio::test]
async fn the_binary_calls_only_checked_routes_and_sends_mail_graph_can_read() {
    let csdl = Csdl::load();
    let tenant = sim::tenant(|_| {}).await;
    let run = sim::run(
        &tenant,
        sim::invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" }),
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut seen: Vec<String> = tenant
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0/") || r.path.starts_with("/beta/"))
        .map(|r| route_shape(&r.method, &r.path))
        .collect();
    seen.dedup();
    let user_read = tenant
        .requests()
        .into_iter()
        .find(|r| route_shape(&r.method, &r.path) == "GET /users/{user}")
        .expect("the user is read");
    assert_eq!(
        user_read.query.as_deref(),
        Some(CLIENT_USER_QUERY),
        "the conformance tests check the user read the client makes"
    );
    for route in &seen {
        assert!(
            CHECKED_ROUTES.contains(&route.as_str()),
            "unchecked route {route}"
        );
    }
    assert!(
        seen.iter()
            .any(|r| r.starts_with("POST /users/{user}/sendMail"))
    );

    let outbox = tenant.outbox();
    assert_eq!(outbox.len(), 1);
    let body = &outbox[0].body;
    let mut parameters = object_properties(body);
    parameters.sort_unstable();
    assert_eq!(
        parameters,
        ["message", "saveToSentItems"],
        "sendMail's parameters"
    );
    let problems = csdl.check(&body["message"], "message", Direction::Request);
    assert!(problems.is_empty(), "the client's message: {problems:#?}");
}
