//! The notification's times in the recipient's zone, from each source, and the mailbox read
//! beside the preflight: it adds no round trip, and its refusal or slowness never costs the
//! job anything.

use graph_sim::{RecordedRequest, Simulator};
use serde_json::{Value, json};

use crate::common::Run;
use crate::common::sim::{ADELE, invocation, run, tenant};

const ALEX: &str = "alex.wilber@contoso.com";

fn notify() -> Value {
    json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" })
}

/// The demo tenant without `MailboxSettings.Read`.
fn without_mailbox_permission(doc: &mut Value) {
    doc["app"]["roles"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r != "MailboxSettings.Read");
}

/// Runs a notified job for `user` and returns it with the HTML of the one email it sent.
async fn notified(sim: &Simulator, user: &str) -> (Run, String) {
    let run = run(sim, invocation(user, notify()), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.result()["result"]["notification"]["sent"], true);
    let sent = sim.outbox();
    assert_eq!(sent.len(), 1);
    let html = sent[0].body["message"]["body"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    (run, html)
}

/// The Verbose line that says which zone the email uses and why.
fn zone_line(run: &Run) -> String {
    run.stream("Verbose")
        .into_iter()
        .find(|m| m.starts_with("Notification times in "))
        .unwrap_or_else(|| panic!("no time zone line: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_zone_in_the_mailbox_is_shown_by_its_iana_name() {
    let sim = tenant(|_| {}).await;
    let (run, html) = notified(&sim, ADELE).await;
    assert_eq!(
        zone_line(&run),
        "Notification times in Europe/Berlin with UTC beside them (from the mailbox settings, W. Europe Standard Time)"
    );
    assert!(html.contains(" Europe/Berlin ("), "{html}");
    assert!(html.contains(" UTC)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iana_zone_in_the_mailbox_wins_over_the_usage_location() {
    let sim = tenant(|doc| doc["users"][0]["mailboxTimeZone"] = json!("Asia/Tokyo")).await;
    let (run, html) = notified(&sim, ADELE).await;
    assert!(zone_line(&run).starts_with("Notification times in Asia/Tokyo "));
    assert!(html.contains(" Asia/Tokyo ("));
    assert!(!html.contains("Europe/Berlin"));

    // A mailbox zone also settles a country with several zones.
    let sim = tenant(|_| {}).await;
    let (run, _) = notified(&sim, ALEX).await;
    assert!(zone_line(&run).starts_with("Notification times in America/Los_Angeles "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_permission_the_usage_location_decides() {
    let sim = tenant(|doc| {
        without_mailbox_permission(doc);
        doc["users"][0]["mailboxTimeZone"] = json!("Tokyo Standard Time");
    })
    .await;
    let (run, html) = notified(&sim, ADELE).await;
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|m| m.contains("MailboxSettings.Read is not granted")),
        "{}",
        run.stdout
    );
    assert_eq!(
        zone_line(&run),
        "Notification times in Europe/Berlin with UTC beside them (from the usage location DE)"
    );
    assert!(html.contains(" Europe/Berlin ("));
    assert!(
        run.stream("Warning").is_empty(),
        "{:?}",
        run.stream("Warning")
    );
    let denied: Vec<RecordedRequest> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/mailboxSettings"))
        .collect();
    assert_eq!(denied.len(), 1, "a refusal is not retried");
    assert_eq!(denied[0].status, Some(403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_country_with_several_zones_or_none_known_shows_utc() {
    let sim = tenant(without_mailbox_permission).await;
    let (run, html) = notified(&sim, ALEX).await;
    assert_eq!(
        zone_line(&run),
        "Notification times in UTC (from the default; the usage location US has no single main time zone)"
    );
    assert!(!html.contains("America/"));
    assert!(!html.contains(" UTC)"), "UTC is not repeated beside itself");

    let sim = tenant(|doc| {
        without_mailbox_permission(doc);
        doc["users"][0]["usageLocation"] = Value::Null;
    })
    .await;
    let (run, _) = notified(&sim, ADELE).await;
    assert_eq!(
        zone_line(&run),
        "Notification times in UTC (from the default; no usage location is set)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_a_mailbox_gets_the_usage_location_zone() {
    let sim = tenant(|doc| doc["users"][0]["mailbox"] = json!(false)).await;
    let (run, _) = notified(&sim, ADELE).await;
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|m| m.contains("has no Exchange Online mailbox to read a time zone from")),
        "{}",
        run.stdout
    );
    assert!(zone_line(&run).ends_with("(from the usage location DE)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_read_that_never_answers_costs_the_job_nothing() {
    let sim = tenant(|doc| {
        doc["faults"] = json!([{ "method": "GET", "path": "/v1.0/users/*/mailboxSettings", "delayMs": 120_000 }]);
    })
    .await;
    // The job would end before the read could answer; the email still goes out in time.
    let run = run(&sim, invocation(ADELE, notify()), &["--deadline", "30"]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.result()["status"], "Completed");
    assert_eq!(run.result()["result"]["notification"]["sent"], true);
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|m| m.contains("The mailbox time zone did not arrive in time")),
        "{}",
        run.stdout
    );
    assert!(zone_line(&run).ends_with("(from the usage location DE)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_does_not_notify_reads_no_mailbox() {
    let sim = tenant(|_| {}).await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        sim.requests()
            .iter()
            .all(|r| !r.path.ends_with("/mailboxSettings"))
    );
}

/// Each request's place on the longest chain of requests that had to wait for one another:
/// a request depends on every request answered before it arrived.
fn depths(requests: &[RecordedRequest]) -> Vec<(String, usize)> {
    let mut by_answer: Vec<&RecordedRequest> = requests.iter().collect();
    by_answer.sort_by_key(|r| r.answered);
    let mut placed: Vec<(&RecordedRequest, usize)> = Vec::new();
    for request in by_answer {
        let depth = 1 + placed
            .iter()
            .filter(|(before, _)| before.answered < request.arrived)
            .map(|(_, depth)| *depth)
            .max()
            .unwrap_or(0);
        placed.push((request, depth));
    }
    placed
        .into_iter()
        .map(|(r, depth)| (format!("{} {}", r.method, r.path), depth))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailbox_read_adds_no_round_trip() {
    for edit in [
        (|_: &mut Value| {}) as fn(&mut Value),
        without_mailbox_permission,
    ] {
        // Every request takes 50 ms, so requests sent together overlap in the request log.
        let sim = tenant(|doc| {
            edit(doc);
            doc["latencyMs"] = json!(50);
        })
        .await;
        let run = run(&sim, invocation(ADELE, notify()), &[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        let depths = depths(&sim.requests());
        let critical_path = depths.iter().map(|(_, d)| *d).max().unwrap();
        assert_eq!(
            critical_path, 5,
            "token → preflight → delete → create → sendMail: {depths:#?}"
        );
        let depth_of = |suffix: &str| {
            depths
                .iter()
                .find(|(call, _)| call.starts_with("GET") && call.ends_with(suffix))
                .map(|(_, d)| *d)
                .unwrap_or_else(|| panic!("no {suffix}: {depths:#?}"))
        };
        assert_eq!(depth_of("/mailboxSettings"), 2, "{depths:#?}");
        assert_eq!(depth_of(&ADELE.replace('@', "%40")), 2, "{depths:#?}");
    }
}
