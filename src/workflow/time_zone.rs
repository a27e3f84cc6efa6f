//! The recipient's time zone for the email: the mailbox settings are read beside the
//! preflight, so the read adds no round trip, and the notification waits for the answer only
//! briefly. The zone is a courtesy: no answer, a refusal or an error falls back to the usage
//! location's zone and never holds up or fails the job.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{Either, select};
use tokio::sync::watch;
use tokio::time::Instant;

use super::Job;
use crate::graph::{GraphError, GraphUser};
use crate::notify::{TimeZoneChoice, choose_time_zone};

/// How long the notification waits for a read still under way. It started with the
/// preflight, a delete and a create ago, so an answer that is still missing is slow or being
/// retried; the email does not wait on it.
const MAILBOX_READ_GRACE: Duration = Duration::from_secs(2);

type MailboxRead = Result<Option<String>, GraphError>;

/// The mailbox read's answer, once it has one.
pub(super) struct PendingTimeZone {
    answer: watch::Receiver<Option<MailboxRead>>,
}

/// Runs `steps` with the mailbox read going on beside it from the start. The read is made
/// only for a job that notifies; when `steps` ends first, the read is dropped.
pub(super) async fn beside<T>(job: &Job<'_>, steps: impl AsyncFnOnce(&PendingTimeZone) -> T) -> T {
    let (tell, answer) = watch::channel(None);
    let pending = PendingTimeZone { answer };
    let read = async {
        if job.request.notify_user {
            let read = job
                .graph
                .get_mailbox_time_zone(job.request.user.as_str())
                .await;
            tell.send_replace(Some(read));
        }
    };
    let steps = pin!(steps(&pending));
    match select(steps, pin!(read)).await {
        Either::Left((result, _read)) => result,
        Either::Right(((), steps)) => steps.await,
    }
}

impl PendingTimeZone {
    /// The zone for `user`'s email: the mailbox setting if it came in time, else the usage
    /// location's main zone, else UTC. Says at Verbose which and why.
    pub(super) async fn choose(&self, job: &Job<'_>, user: &GraphUser) -> TimeZoneChoice {
        let log = job.log;
        let by = (Instant::now() + MAILBOX_READ_GRACE).min(job.graph.config().deadline);
        let mut answer = self.answer.clone();
        let read = tokio::time::timeout_at(by, answer.wait_for(Option::is_some))
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|answer| answer.clone());
        let mailbox_zone = match read {
            Some(Ok(zone)) => zone,
            Some(Err(e)) if e.is_permission_denied() => {
                log.verbose("The mailbox time zone is not readable (MailboxSettings.Read is not granted); the usage location decides");
                None
            }
            Some(Err(e)) if e.is_not_found() => {
                log.verbose(format!(
                    "{} has no Exchange Online mailbox to read a time zone from; the usage location decides",
                    user.user_principal_name
                ));
                None
            }
            Some(Err(e)) => {
                log.verbose(format!(
                    "The mailbox time zone could not be read ({e}); the usage location decides"
                ));
                None
            }
            None => {
                log.verbose(
                    "The mailbox time zone did not arrive in time; the usage location decides",
                );
                None
            }
        };
        let choice = choose_time_zone(mailbox_zone.as_deref(), user.usage_location.as_deref());
        log.verbose(format!(
            "Notification times in {}{} (from {})",
            choice.name(),
            if choice.is_utc() {
                ""
            } else {
                " with UTC beside them"
            },
            choice.reason
        ));
        choice
    }
}
