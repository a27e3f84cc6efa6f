//! How a running job ends: by itself, by a stop signal, or at its deadline; in each case with
//! whatever was done so far. Signals are listened for before the job does anything.

use std::pin::pin;
use std::time::Duration;

use crate::job::{ErrorCode, JobError, JobLog, JobResult, StopSignal};
use crate::run_config::Deadline;
use crate::signals::StopSignals;
use crate::workflow::Progress;

/// How long after the deadline the job is cut off if a step did not end by itself.
const DEADLINE_BACKSTOP: Duration = Duration::from_secs(2);

/// How long a stop signal waits for a pass replacement already under way.
const REPLACE_GRACE: Duration = Duration::from_secs(10);

/// The same wait after a Windows console close, logoff or shutdown: the system ends the
/// process about 5 s after the event, and the record must be out before that.
const FORCED_END_GRACE: Duration = Duration::from_secs(2);

/// Listens for stop signals before anything else, so none can end the process without its
/// record.
pub fn listen() -> Result<StopSignals, Box<JobResult>> {
    StopSignals::listen().map_err(|e| {
        Box::new(JobResult::failed(JobError::new(
            ErrorCode::Unexpected,
            format!("cannot listen for stop signals: {e}"),
        )))
    })
}

/// Runs `work` until it ends, a signal stops it, or the deadline passes.
pub async fn supervise(
    work: impl Future<Output = JobResult>,
    signals: &mut StopSignals,
    progress: &Progress,
    deadline: Deadline,
    log: &JobLog,
) -> JobResult {
    let mut work = pin!(work);
    tokio::select! {
        result = &mut work => result,
        signal = signals.next() => stop(signal, work, signals, progress, log).await,
        // A backstop only: every step is bounded by the deadline itself and ends the way that
        // step should (a late notification is a warning), so the timer waits a moment longer.
        () = tokio::time::sleep_until(deadline.at + DEADLINE_BACKSTOP) => {
            let mut message = format!(
                "the job did not finish within its deadline of {} seconds",
                deadline.budget.as_secs()
            );
            if progress.pass_may_exist() {
                message.push_str("; a new pass may exist that nobody received: check the user's authentication methods in the Entra admin center, or run the job again, which removes it");
            }
            let mut result = JobResult::failed(JobError::new(ErrorCode::Timeout, message));
            result.result = progress.partial_result();
            log.error(result.error.as_ref().map(|e| e.message.clone()).unwrap_or_default());
            result
        }
    }
}

/// Ends the job for a stop signal. Nothing new starts after it; a replacement under way is
/// finished first (at most [`REPLACE_GRACE`], [`FORCED_END_GRACE`] when Windows is about to end
/// the process), since stopping between delete and create would leave the user without a
/// pass, or lose the value of one Graph is making. A second signal ends that wait at once.
async fn stop(
    signal: StopSignal,
    work: std::pin::Pin<&mut impl Future<Output = JobResult>>,
    signals: &mut StopSignals,
    progress: &Progress,
    log: &JobLog,
) -> JobResult {
    if progress.is_replacing() {
        progress.request_stop(signal);
        let grace = if signal.ends_process_soon() {
            FORCED_END_GRACE
        } else {
            REPLACE_GRACE
        };
        log.warning(format!(
            "{} arrived while the pass was being replaced; finishing that first (at most {} seconds), then stopping",
            signal.name(),
            grace.as_secs()
        ));
        tokio::select! {
            _ = work => {}
            () = tokio::time::sleep(grace) => log.warning(format!(
                "The replacement did not finish within {} seconds", grace.as_secs()
            )),
            second = signals.next() => log.warning(format!(
                "A second {} ended the wait for the replacement", second.name()
            )),
        }
        if progress.pass_may_exist() {
            log.warning(
                "A new pass may exist that nobody received: check the user's authentication methods in the Entra admin center, or run the job again, which removes it",
            );
        }
    }
    log.error(format!("Stopped by {}", signal.name()));
    JobResult::stopped(signal, progress.partial_result())
}
