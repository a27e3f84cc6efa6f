//! The TAP steps, in the runbook's order: preflight → remove the old pass → create the new
//! one → write it out → notify. Inputs were validated before this runs; every Graph call goes
//! through the one client.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::graph::{
    CreatePass, CreatedPass, GraphClient, GraphError, GraphErrorKind, GraphUser, TapMethod,
    TapPolicy, UserRef,
};
use crate::input::TapRequest;
use crate::job::{
    ErrorCode, JobError, JobLog, JobResult, NotificationOutcome, TapOutcome, format_rfc3339,
};
use crate::notify::{self, Notice};

/// A pass created this long before the job started is not ours: allows for clock skew
/// between this host and Entra when recognising an orphan after an unanswered create.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// Everything a run needs besides the request.
pub struct Job<'a> {
    pub request: &'a TapRequest,
    pub graph: &'a GraphClient,
    /// For branding image downloads (public addresses only).
    pub images: &'a notify::ImageFetcher,
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
    /// Download branding images. Off against a simulated tenant: a rehearsal reaches nothing
    /// beyond loopback.
    pub download_branding: bool,
    pub progress: &'a Progress,
}

/// What the job has done so far, so that a job stopped by a signal or the deadline still
/// reports it (above all a pass that was created).
#[derive(Default)]
pub struct Progress(Mutex<ProgressState>);

#[derive(Default)]
struct ProgressState {
    user: Option<GraphUser>,
    /// Between the first delete and the create's answer: stopping now would leave the user
    /// without a pass, or lose one Graph is making.
    replacing: bool,
    removed: u32,
    created: Option<CreatedPass>,
    notification: Option<NotificationOutcome>,
}

impl Progress {
    fn update(&self, f: impl FnOnce(&mut ProgressState)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Whether the old pass is being replaced (deleted and the new one created).
    pub fn is_replacing(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).replacing
    }

    /// The result so far: the created pass if there is one, else what was removed.
    pub fn partial_result(&self) -> Option<Value> {
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let user = state.user.as_ref()?;
        let notification = state
            .notification
            .clone()
            .unwrap_or(NotificationOutcome::not_requested());
        match &state.created {
            Some(created) => {
                serde_json::to_value(outcome(user, created, state.removed, notification)).ok()
            }
            None => Some(json!({
                "userPrincipalName": user.user_principal_name,
                "userId": user.id,
                "removedPassCount": state.removed,
            })),
        }
    }
}

fn outcome(
    user: &GraphUser,
    created: &CreatedPass,
    removed: u32,
    notification: NotificationOutcome,
) -> TapOutcome {
    TapOutcome {
        user_principal_name: user.user_principal_name.clone(),
        user_id: user.id.clone(),
        temporary_access_pass: Some(created.temporary_access_pass.clone()),
        start_date_time: created.start_date_time.clone(),
        lifetime_in_minutes: created.lifetime_in_minutes,
        is_usable_once: created.is_usable_once,
        is_usable: created.is_usable,
        method_usability_reason: created.method_usability_reason.clone(),
        removed_pass_count: removed,
        notification,
    }
}

/// Runs the job and returns its result; failures are logged on the Error stream.
pub async fn run(job: &Job<'_>) -> JobResult {
    match steps(job).await {
        Ok(result) => result,
        Err(error) => {
            job.log.error(error.message.clone());
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

async fn steps(job: &Job<'_>) -> Result<JobResult, JobError> {
    let req = job.request;
    job.log.output(format!(
        "Creating a Temporary Access Pass for {}",
        req.user.as_str()
    ));
    let plan = preflight(job).await?;
    job.progress.update(|s| s.user = Some(plan.user.clone()));
    if job.what_if {
        return Ok(what_if(job, &plan).await);
    }

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
    job.progress.update(|s| s.replacing = true);
    for pass in &plan.existing {
        job.log.output(format!(
            "Removing the existing Temporary Access Pass (created {})",
            pass.created_date_time
                .as_deref()
                .unwrap_or("at an unknown time")
        ));
        job.graph
            .delete_pass(&plan.user.id, &pass.id)
            .await
            .map_err(|e| e.to_job_error())?;
        job.progress.update(|s| s.removed += 1);
    }

    let created = create(job, &plan).await;
    job.progress.update(|s| s.replacing = false);
    let created = created?;
    job.progress.update(|s| s.created = Some(created.clone()));
    // The pass goes out the moment it exists, before anything else can fail or be killed.
    job.log.output(format!(
        "Temporary Access Pass for {}: {}",
        plan.user.user_principal_name,
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
            plan.user.user_principal_name
        ));
    }

    if req.notify_user {
        // Until the attempt ends, a stop reports the notification as asked for and not sent.
        let pending = NotificationOutcome {
            requested: true,
            ..NotificationOutcome::not_requested()
        };
        job.progress.update(|s| s.notification = Some(pending));
    }
    let notification = if req.notify_user {
        notify_user(
            job,
            &plan.user,
            start_of(&created),
            created.lifetime_in_minutes,
            created.is_usable_once,
        )
        .await
    } else {
        NotificationOutcome::not_requested()
    };
    job.progress
        .update(|s| s.notification = Some(notification.clone()));
    let removed = plan.existing.len() as u32;
    job.log.output("Done.");
    Ok(JobResult::completed(outcome(
        &plan.user,
        &created,
        removed,
        notification,
    )))
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
        start_date_time: req.start_date_time.map(format_rfc3339),
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
            format!(
                "LifetimeInMinutes {} is outside the tenant policy's range of {min} to {max} minutes",
                create.lifetime_in_minutes
            ),
        ));
    }
    if policy.is_usable_once == Some(true) && !create.is_usable_once {
        job.log.warning("The tenant policy requires one-time passes; the pass is created for one sign-in although OneTimeUseOnly is false");
        create.is_usable_once = true;
    }
    Ok(())
}

/// Creates the pass. When the create goes unanswered the pass may exist with its value lost:
/// remove any pass created since the job started, then create once more. If that one goes
/// unanswered too, clean up again and give up, so no pass nobody received stays behind.
async fn create(job: &Job<'_>, plan: &Plan) -> Result<CreatedPass, JobError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let error = match job.graph.create_pass(&plan.user.id, &plan.create).await {
            Ok(created) => return Ok(created),
            Err(e) if e.kind == GraphErrorKind::Ambiguous => e,
            Err(e) => return Err(e.to_job_error()),
        };
        job.log.warning(format!(
            "Creating the pass went unanswered ({}); checking whether it was created",
            error.message
        ));
        remove_orphans(job, plan).await?;
        if tries == UNANSWERED_CREATES {
            let mut failure = error.to_job_error();
            failure.message = format!(
                "{}; Graph did not answer {tries} create requests, and any pass they made was removed",
                failure.message
            );
            return Err(failure);
        }
    }
}

/// Creates tried before giving up when each goes unanswered.
const UNANSWERED_CREATES: u32 = 2;

/// Deletes the passes created since the job started: their values never arrived.
async fn remove_orphans(job: &Job<'_>, plan: &Plan) -> Result<(), JobError> {
    let graph = job.graph;
    let passes = graph
        .list_passes(&plan.user.id)
        .await
        .map_err(|e| e.to_job_error())?;
    for orphan in passes
        .iter()
        .filter(|p| created_since(p, job.started - CLOCK_SKEW))
    {
        job.log.verbose(format!(
            "Removing pass {} that an unanswered request created; its value never arrived",
            orphan.id
        ));
        graph
            .delete_pass(&plan.user.id, &orphan.id)
            .await
            .map_err(|e| e.to_job_error())?;
    }
    Ok(())
}

fn created_since(pass: &TapMethod, since: OffsetDateTime) -> bool {
    pass.created_date_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        // A pass without a creation time cannot be told apart: treat it as ours, since a user
        // has at most one pass and the old one was deleted before the create.
        .is_none_or(|t| t >= since)
}

fn start_of(created: &CreatedPass) -> OffsetDateTime {
    created
        .start_date_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// `--what-if`: report the plan, render the notification into the outbox, change nothing.
async fn what_if(job: &Job<'_>, plan: &Plan) -> JobResult {
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
        plan.create.start_date_time.as_deref().unwrap_or("now"),
        if plan.create.is_usable_once {
            "one-time use"
        } else {
            "reusable"
        }
    ));
    let notification = if job.request.notify_user {
        let start = job
            .request
            .start_date_time
            .unwrap_or_else(OffsetDateTime::now_utc);
        notify_user(
            job,
            &plan.user,
            start,
            plan.create.lifetime_in_minutes,
            plan.create.is_usable_once,
        )
        .await
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

/// Tells the user by email that a pass was created. Any failure is a warning: the pass is
/// already in the output and the job stays Completed.
async fn notify_user(
    job: &Job<'_>,
    user: &GraphUser,
    start: OffsetDateTime,
    lifetime: u32,
    once: bool,
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
        start,
        lifetime_minutes: lifetime,
        is_usable_once: once,
        service_desk: req.service_desk.clone(),
        branding: req.branding.clone(),
    };
    let images = if job.what_if {
        log.verbose("What if: branding images are not downloaded");
        notify::InlineImages::default()
    } else if job.download_branding {
        let deadline = job.graph.config().deadline;
        let fetch = notify::fetch_branding(job.images, &notice.branding, notify::IMAGE_TIMEOUT);
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
        log.verbose("Branding images are not downloaded when running against a simulated tenant");
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
    let body = notify::sendmail_body(&recipient, &email, &images.into_vec());
    if let Some(dir) = job.outbox {
        match notify::write_outbox(dir, 1, &email.html, &body) {
            Ok(()) => log.verbose(format!("Notification written to {}", dir.display())),
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
            req.email_from.as_deref().unwrap_or("?")
        ));
        return outcome;
    }
    let Some(sender) = req.email_from.as_deref() else {
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
