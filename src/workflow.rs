//! The TAP steps, in the runbook's order: preflight → remove the old pass → create the new
//! one → write it out → notify. Inputs were validated before this runs; every Graph call goes
//! through the one client.

mod progress;
mod replace;
mod time_zone;

use std::path::Path;
use std::time::SystemTime;

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use progress::Progress;

use crate::address::EmailAddress;
use crate::graph::{
    CreatePass, CreatedPass, GraphClient, GraphError, GraphErrorKind, GraphUser, TapMethod,
    TapPolicy, UserRef,
};
use crate::input::{TapRequest, UserName};
use crate::job::{ErrorCode, JobError, JobLog, JobResult, NotificationOutcome, format_rfc3339};
use crate::notify::{self, Notice};
use crate::user_lock::UserLocks;
use progress::outcome;
use replace::Confirmation;
use time_zone::PendingTimeZone;

/// Everything a run needs besides the request.
pub struct Job<'a> {
    pub request: &'a TapRequest,
    pub graph: &'a GraphClient,
    /// For branding image downloads (public addresses only); only when the job downloads any.
    pub images: Option<&'a notify::ImageFetcher>,
    pub log: &'a JobLog,
    /// Read and check only; change nothing, send nothing.
    pub what_if: bool,
    /// Write each notification here as `N.html` and `N.json`.
    pub outbox: Option<&'a Path>,
    /// When the job started, to recognise a pass this job created.
    pub started: OffsetDateTime,
    /// Budget the replacement needs: with less time left before the deadline the old pass is
    /// not touched, since a delete whose create then runs out of time leaves the user with none.
    pub replace_reserve: std::time::Duration,
    /// Download branding images. Off against a simulated tenant and under what-if (a
    /// rehearsal reaches nothing beyond loopback), unless `--outbox-images` asks for them.
    pub download_branding: bool,
    /// The per-user locks that keep jobs for one user on this machine apart.
    pub locks: &'a UserLocks,
    pub progress: &'a Progress,
}

/// Runs the job and returns its result; failures are logged on the Error stream.
pub async fn run(job: &Job<'_>) -> JobResult {
    // The mailbox time zone is read beside the preflight, for the notification.
    match time_zone::beside(job, async |time_zone| steps(job, time_zone).await).await {
        Ok(result) => result,
        Err(error) => {
            job.log.error(error.message.clone());
            // A stop is a stop, also when the replacement it waited for failed.
            if let Some(signal) = job.progress.stop_requested() {
                return JobResult::stopped(signal, job.progress.partial_result());
            }
            let mut result = JobResult::failed(error);
            result.result = job.progress.partial_result();
            result
        }
    }
}

/// What preflight found and decided.
struct Plan {
    user: GraphUser,
    existing: Vec<TapMethod>,
    create: CreatePass,
}

async fn steps(job: &Job<'_>, time_zone: &PendingTimeZone) -> Result<JobResult, JobError> {
    let req = job.request;
    job.log.output(if job.what_if {
        format!(
            "What if: checking what creating a Temporary Access Pass for {} would do; nothing is changed",
            req.user.as_str()
        )
    } else {
        format!("Creating a Temporary Access Pass for {}", req.user.as_str())
    });
    let listed_at = SystemTime::now();
    let mut plan = preflight(job).await?;
    job.progress.set_user(&plan.user);
    if job.what_if {
        return Ok(what_if(job, &plan, time_zone).await);
    }

    ensure_time_to_replace(job)?;
    if !job.log.can_deliver() {
        return Err(JobError::new(
            ErrorCode::Unexpected,
            "the job's output was closed and there is no --result-file, so a new pass would reach nobody; the existing pass was kept",
        ));
    }
    let lock = replace::lock_user(job, &plan).await?;
    replace::refresh_if_stale(job, &mut plan, lock.as_ref(), listed_at).await?;
    job.progress.begin_replacement();
    let replaced = match replace::remove_existing(job, &plan).await {
        Ok(()) => replace::create(job, &plan).await,
        Err(e) => Err(e),
    };
    job.progress.end_replacement(replaced.as_ref().ok());
    let created = replaced?;
    write_pass(job, &plan.user, &created);
    if let Some(signal) = job.progress.stop_requested() {
        // A stop that waited for the replacement: nothing else starts.
        return Ok(JobResult::stopped(signal, job.progress.partial_result()));
    }

    if req.notify_user {
        // Until the attempt ends, a stop reports the notification as asked for and not sent.
        job.progress.set_notification(NotificationOutcome {
            requested: true,
            ..NotificationOutcome::not_requested()
        });
    }
    let notification = async {
        if req.notify_user {
            let pass = PassTerms {
                start: start_of(&created),
                lifetime: created.lifetime_in_minutes,
                once: created.is_usable_once,
            };
            notify_user(job, &plan.user, pass, time_zone).await
        } else {
            NotificationOutcome::not_requested()
        }
    };
    // The check runs beside the notification, so it adds no round trip to a notified job.
    let (confirmation, notification) =
        tokio::join!(replace::confirm(job, &plan, &created, lock), notification);
    job.progress.set_notification(notification.clone());
    let mut result = outcome(
        &plan.user,
        &created,
        job.progress.removed_passes(),
        notification,
    );
    match confirmation {
        Confirmation::Confirmed => {}
        Confirmation::Unknown(why) => job.log.verbose(format!(
            "Whether the new pass is still the user's could not be checked: {why}"
        )),
        Confirmation::Superseded(newer) => {
            let now_has = newer.map_or("no pass at all".to_owned(), |p| {
                format!(
                    "pass {} created {}",
                    p.id,
                    p.created_date_time
                        .as_deref()
                        .unwrap_or("at an unknown time")
                )
            });
            let error = JobError::new(
                ErrorCode::ReplacedByAnotherJob,
                format!(
                    "The new pass for {} was replaced by another job moments after it was created, so it no longer works; the user now has {now_has}. Run one job per user at a time",
                    plan.user.user_principal_name
                ),
            );
            job.log.error(error.message.clone());
            result.superseded = true;
            result.is_usable = Some(false);
            let mut failed = JobResult::failed(error);
            failed.result = serde_json::to_value(result).ok();
            return Ok(failed);
        }
    }
    job.log.output("Done.");
    Ok(JobResult::completed(result))
}

/// Refuses to touch the old pass with too little of the deadline left to create the new one.
fn ensure_time_to_replace(job: &Job<'_>) -> Result<(), JobError> {
    let left = job
        .graph
        .config()
        .deadline
        .saturating_duration_since(tokio::time::Instant::now());
    if left < job.replace_reserve {
        return Err(JobError::new(
            ErrorCode::Timeout,
            format!(
                "only {:.1} s of the deadline are left, too little to replace the pass safely; the existing pass was kept",
                left.as_secs_f64()
            ),
        ));
    }
    Ok(())
}

/// The pass goes out the moment it exists, before anything else can fail or be killed.
fn write_pass(job: &Job<'_>, user: &GraphUser, created: &CreatedPass) {
    job.log.output(format!(
        "Temporary Access Pass for {}: {}",
        user.user_principal_name,
        created.temporary_access_pass.expose()
    ));
    job.log.output(format!(
        "It is valid for {} minutes from {}{}.",
        created.lifetime_in_minutes,
        created.start_date_time.as_deref().unwrap_or("now"),
        if created.is_usable_once {
            " and works for one sign-in only"
        } else {
            " and works for repeated sign-ins"
        }
    ));
    if created.method_usability_reason.as_deref() == Some("DisabledByPolicy") {
        job.log.warning(format!(
            "Graph reports the new pass as DisabledByPolicy: {} is not targeted by the Temporary Access Pass policy, so the pass cannot be used until the policy includes them",
            user.user_principal_name
        ));
    }
}

/// Reads the user, the policy and the existing passes at once, and refuses — before anything
/// is deleted — a pass that cannot be created.
async fn preflight(job: &Job<'_>) -> Result<Plan, JobError> {
    let req = job.request;
    let graph = job.graph;
    let user_ref = UserRef::new(req.user.as_str());
    let (user, policy, passes) = tokio::join!(
        graph.get_user(&user_ref),
        graph.get_tap_policy(),
        graph.list_passes(req.user.as_str())
    );
    let user = user.map_err(|e| user_error(&e, req.user.as_str()))?;
    // Defence in depth: a pass is never made for an account other than the one named.
    if !names(&req.user, &user) {
        return Err(JobError::new(
            ErrorCode::Unexpected,
            format!(
                "Graph answered the request for {} with another account, {} ({}); nothing was changed",
                req.user.as_str(),
                user.user_principal_name,
                user.id
            ),
        ));
    }
    job.log.verbose(format!(
        "User {} ({}), type {}, mail {}, preferred language {}, usage location {}",
        user.user_principal_name,
        user.id,
        user.user_type.as_deref().unwrap_or("unknown"),
        user.mail.as_deref().unwrap_or("none"),
        user.preferred_language.as_deref().unwrap_or("none"),
        user.usage_location.as_deref().unwrap_or("none"),
    ));
    if user
        .user_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("Guest"))
    {
        return Err(JobError::new(
            ErrorCode::GuestUserNotSupported,
            format!(
                "{} is a guest user; Entra does not issue Temporary Access Passes to external guests",
                user.user_principal_name
            ),
        ));
    }

    let mut create = CreatePass {
        lifetime_in_minutes: req.lifetime_in_minutes,
        is_usable_once: req.one_time_use_only,
        start_date_time: req.start_date_time,
    };
    match policy {
        Ok(policy) => check_policy(job, &policy, &mut create)?,
        Err(e) if e.is_permission_denied() => job.log.verbose(
            "The Temporary Access Pass policy is not readable (Policy.Read.AuthenticationMethod is not granted); Graph will enforce it when the pass is created",
        ),
        // Any other refusal of this optional read: Graph still enforces the policy on create.
        Err(e) if e.kind == GraphErrorKind::Rejected => job.log.warning(format!(
            "The Temporary Access Pass policy could not be read ({e}); continuing, and Graph will enforce it when the pass is created"
        )),
        Err(e) => return Err(e.to_job_error()),
    }

    let existing = match passes {
        Ok(passes) => passes,
        // The user was found only after replication caught up; ask again by object id.
        Err(e) if e.is_not_found() => graph
            .list_passes(&user.id)
            .await
            .map_err(|e| e.to_job_error())?,
        Err(e) => return Err(e.to_job_error()),
    };
    job.log.verbose(format!(
        "{} existing Temporary Access Pass(es)",
        existing.len()
    ));
    Ok(Plan {
        user,
        existing,
        create,
    })
}

/// Whether Graph's user is the one the request named.
fn names(asked: &UserName, user: &GraphUser) -> bool {
    match asked {
        UserName::ObjectId(id) => user.id.eq_ignore_ascii_case(id),
        UserName::Upn(upn) => user.user_principal_name.eq_ignore_ascii_case(upn),
    }
}

fn user_error(e: &GraphError, name: &str) -> JobError {
    let mut error = e.to_job_error();
    if error.code == ErrorCode::UserNotFound {
        error.message = format!(
            "No user {name} exists in this tenant (Graph answered 404 after waiting for directory replication)"
        );
    }
    error
}

fn check_policy(
    job: &Job<'_>,
    policy: &TapPolicy,
    create: &mut CreatePass,
) -> Result<(), JobError> {
    job.log.verbose(format!(
        "Temporary Access Pass policy: {}, lifetime {}–{} minutes, one-time use {}",
        policy.state,
        policy
            .minimum_lifetime_in_minutes
            .map_or("?".into(), |m| m.to_string()),
        policy
            .maximum_lifetime_in_minutes
            .map_or("?".into(), |m| m.to_string()),
        if policy.is_usable_once == Some(true) {
            "forced"
        } else {
            "optional"
        },
    ));
    if !policy.is_enabled() {
        return Err(JobError::new(
            ErrorCode::PolicyDisabled,
            "The Temporary Access Pass authentication method is disabled in this tenant's authentication methods policy; enable it in Entra ID → Protection → Authentication methods",
        ));
    }
    let min = policy.minimum_lifetime_in_minutes.unwrap_or(10);
    let max = policy.maximum_lifetime_in_minutes.unwrap_or(43_200);
    if !(min..=max).contains(&create.lifetime_in_minutes) {
        return Err(JobError::new(
            ErrorCode::LifetimeOutsidePolicy,
            lifetime_outside_policy(create.lifetime_in_minutes, min, max),
        ));
    }
    if policy.is_usable_once == Some(true) && !create.is_usable_once {
        job.log.warning("The tenant policy requires one-time passes; the pass is created for one sign-in although OneTimeUseOnly is false");
        create.is_usable_once = true;
    }
    Ok(())
}

/// The refusal of a lifetime the tenant policy does not allow, found by the preflight or by
/// Graph itself.
fn lifetime_outside_policy(lifetime: u32, min: u32, max: u32) -> String {
    format!(
        "LifetimeInMinutes {lifetime} is outside the tenant policy's range of {min} to {max} minutes"
    )
}

fn start_of(created: &CreatedPass) -> OffsetDateTime {
    created
        .start_date_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// `--what-if`: report the plan, render the notification into the outbox, change nothing.
async fn what_if(job: &Job<'_>, plan: &Plan, time_zone: &PendingTimeZone) -> JobResult {
    let log = job.log;
    for pass in &plan.existing {
        log.output(format!(
            "What if: would remove the existing pass {} (created {})",
            pass.id,
            pass.created_date_time
                .as_deref()
                .unwrap_or("at an unknown time")
        ));
    }
    log.output(format!(
        "What if: would create a pass for {} valid for {} minutes from {}, {}",
        plan.user.user_principal_name,
        plan.create.lifetime_in_minutes,
        plan.create
            .start_date_time
            .map_or_else(|| "now".to_owned(), format_rfc3339),
        if plan.create.is_usable_once {
            "one-time use"
        } else {
            "reusable"
        }
    ));
    let notification = if job.request.notify_user {
        let pass = PassTerms {
            start: job
                .request
                .start_date_time
                .unwrap_or_else(OffsetDateTime::now_utc),
            lifetime: plan.create.lifetime_in_minutes,
            once: plan.create.is_usable_once,
        };
        notify_user(job, &plan.user, pass, time_zone).await
    } else {
        NotificationOutcome::not_requested()
    };
    JobResult::completed(json!({
        "whatIf": true,
        "userPrincipalName": plan.user.user_principal_name,
        "userId": plan.user.id,
        "wouldRemovePassCount": plan.existing.len(),
        "wouldCreate": plan.create,
        "notification": notification,
    }))
}

/// What the email says about the pass.
struct PassTerms {
    start: OffsetDateTime,
    lifetime: u32,
    once: bool,
}

/// Tells the user by email that a pass was created. Any failure is a warning: the pass is
/// already in the output and the job stays Completed.
async fn notify_user(
    job: &Job<'_>,
    user: &GraphUser,
    pass: PassTerms,
    time_zone: &PendingTimeZone,
) -> NotificationOutcome {
    let req = job.request;
    let log = job.log;
    let recipient = notify::recipient(user.mail.as_deref(), &user.user_principal_name);
    let choice = notify::choose_language(
        req.language_override.as_deref().unwrap_or(""),
        user.preferred_language.as_deref(),
        user.usage_location.as_deref(),
    );
    log.verbose(format!(
        "Notification language {} (from {})",
        choice.language.code(),
        choice.reason
    ));
    let mut outcome = NotificationOutcome {
        requested: true,
        sent: false,
        recipient: Some(recipient.clone()),
        language: Some(choice.language.code().to_owned()),
    };
    let notice = Notice {
        user_principal_name: user.user_principal_name.clone(),
        display_name: user.display_name.clone(),
        start: pass.start,
        lifetime_minutes: pass.lifetime,
        is_usable_once: pass.once,
        time_zone: time_zone.choose(job, user).await,
        service_desk: req.service_desk.clone(),
        branding: req.branding.clone(),
    };
    let images = if !job.download_branding {
        log.verbose(if job.what_if {
            "What if: branding images are not downloaded (--outbox-images downloads them for the preview)"
        } else {
            "Branding images are not downloaded when running against a simulated tenant (--outbox-images downloads them for the preview)"
        });
        notify::InlineImages::default()
    } else if let Some(fetcher) = job.images {
        let deadline = job.graph.config().deadline;
        let fetch = notify::fetch_branding(fetcher, &notice.branding, notify::IMAGE_TIMEOUT);
        match tokio::time::timeout_at(deadline, fetch).await {
            Ok((images, failures)) => {
                for failure in failures {
                    log.warning(failure.warning());
                    log.verbose(failure.detail());
                }
                images
            }
            Err(_) => {
                log.warning("Branding images were not attached: the job's deadline came first");
                notify::InlineImages::default()
            }
        }
    } else {
        // No branding image is configured.
        notify::InlineImages::default()
    };
    let email = match notify::render(&notice, &choice, &images) {
        Ok(email) => email,
        Err(e) => {
            log.warning(format!("The notification could not be rendered: {e}"));
            return outcome;
        }
    };
    email.warnings.iter().for_each(|w| log.warning(w.clone()));
    let attachments = images.into_vec();
    let body = notify::sendmail_body(&recipient, &email, &attachments);
    if let Some(dir) = job.outbox {
        match notify::write_outbox(dir, &email.html, &body, &attachments) {
            Ok(entry) => log.output(format!(
                "{}otification written to {} (as sent: {}{})",
                if job.what_if { "What if: the n" } else { "N" },
                entry.html.display(),
                entry.json.display(),
                entry
                    .preview
                    .map(|preview| format!("; with its images: {}", preview.display()))
                    .unwrap_or_default()
            )),
            Err(e) => log.warning(format!(
                "The notification could not be written to the outbox {}: {e}",
                dir.display()
            )),
        }
    }
    if job.what_if {
        log.output(format!(
            "What if: would email {recipient} in {} from {}",
            choice.language.code(),
            req.email_from.as_ref().map_or("?", EmailAddress::as_str)
        ));
        return outcome;
    }
    let Some(sender) = req.email_from.as_ref().map(EmailAddress::as_str) else {
        log.warning("No sender mailbox (EmailFrom) is set; the notification was not sent");
        return outcome;
    };
    match job.graph.send_mail(sender, &body).await {
        Ok(()) => {
            log.output(format!(
                "Notification sent to {recipient} ({})",
                choice.language.code()
            ));
            outcome.sent = true;
        }
        Err(e) => {
            let hint = match e.code.as_deref() {
                Some("MailboxNotEnabledForRESTAPI") => format!(
                    " ({sender} has no Exchange Online mailbox; use a licensed or shared mailbox as EmailFrom)"
                ),
                _ => String::new(),
            };
            log.warning(format!(
                "The notification could not be sent: {}{hint}",
                e.to_job_error().message
            ));
        }
    }
    outcome
}
