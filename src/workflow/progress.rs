//! What the job has done so far, shared with whoever ends it: a job stopped by a signal or the
//! deadline still reports it, above all a pass that was created or may have been.

use std::sync::Mutex;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::graph::{CreatedPass, GraphUser};
use crate::job::{NotificationOutcome, RemovedPass, StopSignal, TapOutcome, format_rfc3339};

/// The job's progress. Cheap to lock; every update is one short critical section.
#[derive(Default)]
pub struct Progress(Mutex<ProgressState>);

#[derive(Default)]
struct ProgressState {
    user: Option<GraphUser>,
    /// Between the first delete and the create's answer: stopping now would leave the user
    /// without a pass, or lose one Graph is making.
    replacing: bool,
    removed: Vec<RemovedPass>,
    /// When a create was sent whose answer is not known yet: Graph may have made a pass that
    /// nobody received.
    create_unanswered_since: Option<OffsetDateTime>,
    created: Option<CreatedPass>,
    notification: Option<NotificationOutcome>,
    /// The stop signal that arrived while the pass was being replaced: the replacement ends,
    /// nothing after it starts.
    stop: Option<StopSignal>,
}

impl Progress {
    fn update<T>(&self, f: impl FnOnce(&mut ProgressState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(super) fn set_user(&self, user: &GraphUser) {
        self.update(|s| s.user = Some(user.clone()));
    }

    pub(super) fn begin_replacement(&self) {
        self.update(|s| s.replacing = true);
    }

    pub(super) fn removed(&self, pass: RemovedPass) {
        self.update(|s| s.removed.push(pass));
    }

    pub(super) fn removed_passes(&self) -> Vec<RemovedPass> {
        self.update(|s| s.removed.clone())
    }

    /// A create is about to be sent.
    pub(super) fn create_sent(&self) {
        self.update(|s| {
            s.create_unanswered_since
                .get_or_insert_with(OffsetDateTime::now_utc);
        });
    }

    /// Whatever a sent create did is known now: it answered, or its pass was found and removed.
    pub(super) fn create_settled(&self) {
        self.update(|s| s.create_unanswered_since = None);
    }

    /// The replacement is over, with the new pass if there is one.
    pub(super) fn end_replacement(&self, created: Option<&CreatedPass>) {
        self.update(|s| {
            s.replacing = false;
            if let Some(created) = created {
                s.create_unanswered_since = None;
                s.created = Some(created.clone());
            }
        });
    }

    pub(super) fn set_notification(&self, outcome: NotificationOutcome) {
        self.update(|s| s.notification = Some(outcome));
    }

    /// Whether the old pass is being replaced (deleted and the new one created).
    pub fn is_replacing(&self) -> bool {
        self.update(|s| s.replacing)
    }

    /// Asks the job to stop once the replacement under way is finished.
    pub fn request_stop(&self, signal: StopSignal) {
        self.update(|s| {
            s.stop.get_or_insert(signal);
        });
    }

    /// The stop asked for, if any.
    pub fn stop_requested(&self) -> Option<StopSignal> {
        self.update(|s| s.stop)
    }

    /// Whether a create may have made a pass whose value never arrived.
    pub fn pass_may_exist(&self) -> bool {
        self.update(|s| s.created.is_none() && s.create_unanswered_since.is_some())
    }

    /// The result so far: the created pass if there is one, else what was removed and whether
    /// a pass may exist that nobody received.
    pub fn partial_result(&self) -> Option<Value> {
        self.update(|state| {
            let user = state.user.as_ref()?;
            let notification = state
                .notification
                .clone()
                .unwrap_or(NotificationOutcome::not_requested());
            match &state.created {
                Some(created) => serde_json::to_value(outcome(
                    user,
                    created,
                    state.removed.clone(),
                    notification,
                ))
                .ok(),
                None => {
                    let mut partial = json!({
                        "userPrincipalName": user.user_principal_name,
                        "userId": user.id,
                        "removedPassCount": state.removed.len(),
                        "removedPasses": state.removed,
                        "passMayExist": state.create_unanswered_since.is_some(),
                    });
                    if state.replacing {
                        // Stopped between the first delete and the create's answer: the
                        // user's passes are not what this record alone can tell.
                        partial["replacementInterrupted"] = json!(true);
                    }
                    if let Some(since) = state.create_unanswered_since {
                        partial["createSentAt"] = json!(format_rfc3339(since));
                    }
                    Some(partial)
                }
            }
        })
    }
}

/// The result member of a job that created a pass.
pub(super) fn outcome(
    user: &GraphUser,
    created: &CreatedPass,
    removed: Vec<RemovedPass>,
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
        removed_pass_count: u32::try_from(removed.len()).unwrap_or(u32::MAX),
        removed_passes: removed,
        temporary_access_pass_id: (!created.id.is_empty()).then(|| created.id.clone()),
        superseded: false,
        notification,
    }
}
