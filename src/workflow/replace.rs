//! Replacing the user's pass: take the user's lock, remove what the user has, create the new
//! pass (reconciling a create that went unanswered), and check afterwards that it is still
//! the user's.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use super::{Job, Plan};
use crate::graph::{CreatedPass, Deleted, GraphErrorKind, TapMethod};
use crate::job::{ErrorCode, JobError, RemovedPass};
use crate::user_lock::{LockError, UserLock};

/// A pass created this long before the job started is not ours: allows for clock skew
/// between this host and Entra when recognising an orphan after an unanswered create.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// A pass this young that the job removes was most likely made by another job for the user.
const RECENT_PASS: time::Duration = time::Duration::minutes(10);

/// Creates tried before giving up when each goes unanswered.
const UNANSWERED_CREATES: u32 = 2;

/// What a create leaves of the deadline to find and remove the pass it may have made, when it
/// goes unanswered: a list and a delete.
const RECONCILE_RESERVE: Duration = Duration::from_secs(2);

/// Takes the user's lock, waiting for another job on this machine until only the time the
/// replacement needs is left. `None` when the lock folder cannot be used: the job goes on,
/// and the check after the create still notices another job.
pub(super) async fn lock_user(job: &Job<'_>, plan: &Plan) -> Result<Option<UserLock>, JobError> {
    let path = job
        .locks
        .path_for(&job.graph.config().base_url, &plan.user.id);
    let until = job.graph.config().deadline - job.replace_reserve;
    let log = job.log;
    let upn = &plan.user.user_principal_name;
    let waiting = || {
        log.output(format!(
            "Another job for {upn} is running on this machine; waiting for it to finish"
        ));
    };
    match job.locks.acquire(&path, until, waiting).await {
        Ok(lock) => {
            if !lock.waited().is_zero() {
                log.verbose(format!(
                    "Waited {:.1} s for the lock {}",
                    lock.waited().as_secs_f64(),
                    lock.path().display()
                ));
            }
            Ok(Some(lock))
        }
        Err(LockError::Busy(_)) => Err(JobError::new(
            ErrorCode::Timeout,
            format!(
                "another job for {upn} was still running when too little of the deadline was left to replace the pass; the existing pass was kept"
            ),
        )),
        Err(e @ LockError::Io { .. }) => {
            log.warning(format!(
                "Jobs for {upn} on this machine are not kept apart: {e}"
            ));
            Ok(None)
        }
    }
}

/// Reads the user's passes again when another job released the user's lock after the
/// preflight list was read: that list may miss the other job's pass.
pub(super) async fn refresh_if_stale(
    job: &Job<'_>,
    plan: &mut Plan,
    lock: Option<&UserLock>,
    listed_at: SystemTime,
) -> Result<(), JobError> {
    if lock.is_some_and(|l| l.released_since(listed_at)) {
        job.log.verbose(
            "Another job for this user finished after its passes were read; reading them again",
        );
        plan.existing = job
            .graph
            .list_passes(&plan.user.id)
            .await
            .map_err(|e| e.to_job_error())?;
    }
    Ok(())
}

/// Deletes each of the user's passes. A pass already gone means someone else is at work on
/// this user: the passes are read once more, so a pass another job made since is removed
/// (and named) too, not silently replaced by the create.
pub(super) async fn remove_existing(job: &Job<'_>, plan: &Plan) -> Result<(), JobError> {
    let mut queue: Vec<TapMethod> = plan.existing.clone();
    let mut seen: HashSet<String> = queue.iter().map(|p| p.id.clone()).collect();
    let mut listed_again = false;
    while !queue.is_empty() {
        let pass = queue.remove(0);
        warn_if_recent(job, &pass);
        job.log.output(format!(
            "Removing the existing Temporary Access Pass (created {})",
            pass.created_date_time
                .as_deref()
                .unwrap_or("at an unknown time")
        ));
        let deleted = job
            .graph
            .delete_pass(&plan.user.id, &pass.id)
            .await
            .map_err(|e| e.to_job_error())?;
        match deleted {
            Deleted::Removed => job.progress.removed(RemovedPass {
                id: pass.id.clone(),
                created_date_time: pass.created_date_time.clone(),
            }),
            Deleted::AlreadyGone => {
                job.log.verbose(format!(
                    "Pass {} was already gone (it expired, or someone else removed it)",
                    pass.id
                ));
                if !listed_again {
                    listed_again = true;
                    let fresh = job
                        .graph
                        .list_passes(&plan.user.id)
                        .await
                        .map_err(|e| e.to_job_error())?;
                    queue.extend(fresh.into_iter().filter(|p| seen.insert(p.id.clone())));
                }
            }
        }
    }
    Ok(())
}

fn warn_if_recent(job: &Job<'_>, pass: &TapMethod) {
    let Some(created) = pass
        .created_date_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
    else {
        return;
    };
    if OffsetDateTime::now_utc() - created < RECENT_PASS {
        job.log.warning(format!(
            "Removing pass {} created {}, less than 10 minutes ago: another job for this user probably made it, and whoever received it can no longer use it",
            pass.id,
            pass.created_date_time.as_deref().unwrap_or_default()
        ));
    }
}

/// Creates the pass. When the create goes unanswered the pass may exist with its value lost:
/// remove any pass created since the job started, then create once more. If that one goes
/// unanswered too, clean up again and give up, so no pass nobody received stays behind.
pub(super) async fn create(job: &Job<'_>, plan: &Plan) -> Result<CreatedPass, JobError> {
    let upn = &plan.user.user_principal_name;
    let mut tries = 0;
    loop {
        tries += 1;
        job.progress.create_sent();
        let reply_by = reply_by(job);
        let error = match job
            .graph
            .create_pass(&plan.user.id, &plan.create, reply_by)
            .await
        {
            Ok(created) => return Ok(created),
            Err(e) if e.kind == GraphErrorKind::Ambiguous => e,
            Err(e) if e.kind == GraphErrorKind::Timeout => {
                return Err(may_exist(job, upn, e.to_job_error()));
            }
            Err(e) => {
                job.progress.create_settled();
                let mut failure = e.to_job_error();
                if failure.code == ErrorCode::LifetimeOutsidePolicy
                    && let Some((min, max)) = e.lifetime_range()
                {
                    failure.message = format!(
                        "{} (Graph refused the pass; grant Policy.Read.AuthenticationMethod so this is found before the old pass is removed)",
                        super::lifetime_outside_policy(plan.create.lifetime_in_minutes, min, max)
                    );
                }
                return Err(failure);
            }
        };
        job.log.warning(format!(
            "Creating the pass went unanswered ({}); checking whether it was created",
            error.message
        ));
        if let Err(e) = remove_orphans(job, plan).await {
            return Err(may_exist(job, upn, e));
        }
        job.progress.create_settled();
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

/// The moment a create's answer must have arrived by, leaving time to reconcile before the
/// deadline; `None` when there is not enough time left to leave any.
fn reply_by(job: &Job<'_>) -> Option<Instant> {
    let deadline = job.graph.config().deadline;
    let left = deadline.saturating_duration_since(Instant::now());
    (left > RECONCILE_RESERVE * 2).then(|| deadline - RECONCILE_RESERVE)
}

/// The error of a create whose effect is unknown, saying so plainly and how to check.
fn may_exist(job: &Job<'_>, upn: &str, mut error: JobError) -> JobError {
    let removed = job.progress.removed_passes().len();
    error.message = format!(
        "{}. A new pass may exist for {upn} that nobody received ({removed} existing pass(es) were removed first): check the user's authentication methods in the Entra admin center for a Temporary Access Pass created after {}, or run the job again, which removes it",
        error.message.trim_end_matches('.'),
        crate::job::format_rfc3339(job.started)
    );
    error
}

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

/// How the check after the create ended.
pub(super) enum Confirmation {
    /// The new pass is the user's pass.
    Confirmed,
    /// The new pass is gone, or a newer one exists: another job replaced it.
    Superseded(Option<TapMethod>),
    /// The check could not be made; the reason is for a warning.
    Unknown(String),
}

/// Reads the user's passes again and tells whether the new one is still theirs, then lets
/// the next job for this user in.
pub(super) async fn confirm(
    job: &Job<'_>,
    plan: &Plan,
    created: &CreatedPass,
    lock: Option<UserLock>,
) -> Confirmation {
    if created.id.is_empty() {
        return Confirmation::Unknown("Graph did not say which method id the new pass has".into());
    }
    let listed = job.graph.list_passes(&plan.user.id).await;
    drop(lock);
    let passes = match listed {
        Ok(passes) => passes,
        Err(e) => return Confirmation::Unknown(e.to_string()),
    };
    let ours = passes
        .iter()
        .any(|p| p.id.eq_ignore_ascii_case(&created.id));
    let ours_created = created.created_date_time.as_deref();
    let newer = passes.iter().find(|p| {
        !p.id.eq_ignore_ascii_case(&created.id)
            && match (p.created_date_time.as_deref(), ours_created) {
                (Some(theirs), Some(mine)) => is_later(theirs, mine),
                _ => true,
            }
    });
    match (ours, newer) {
        (true, None) => Confirmation::Confirmed,
        (_, newer) => Confirmation::Superseded(newer.cloned()),
    }
}

fn is_later(a: &str, b: &str) -> bool {
    match (
        OffsetDateTime::parse(a, &Rfc3339),
        OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(a), Ok(b)) => a > b,
        _ => true,
    }
}
