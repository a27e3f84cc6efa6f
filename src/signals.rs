//! Stop signals, listened for from the start so a job always ends with its result record.
//!
//! On Unix these are SIGINT, SIGTERM and SIGHUP. On Windows they are the console control events:
//! Ctrl-C, Ctrl-Break, the console window closing, the user logging off and the system
//! shutting down. Windows delivers each event on a thread of its own and ends the process
//! when the handler returns for close, logoff and shutdown, or in any case a few seconds
//! later (5 s by default). Tokio's handler therefore never returns for those three: it parks
//! its thread, so the process lives until it exits by itself or the system's timeout ends it.
//! The job uses that window to write and flush its `Stopped` record (stdout and the result
//! file) and then exits on its own; `StopSignal::ends_process_soon` keeps any wait in that
//! window short.

use std::io;

use crate::job::StopSignal;

/// The stop listeners. They take over from the default action (ending the process) the
/// moment they are created, so create them before anything a signal must not cut short.
pub struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    ctrl_break: tokio::signal::windows::CtrlBreak,
    #[cfg(windows)]
    ctrl_close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    ctrl_logoff: tokio::signal::windows::CtrlLogoff,
    #[cfg(windows)]
    ctrl_shutdown: tokio::signal::windows::CtrlShutdown,
}

#[cfg(not(any(unix, windows)))]
compile_error!("tap-runbook listens for stop signals on Unix and Windows only");

impl StopSignals {
    /// Starts listening. Needs a Tokio runtime.
    pub fn listen() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
                hangup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows;
            Ok(Self {
                ctrl_c: windows::ctrl_c()?,
                ctrl_break: windows::ctrl_break()?,
                ctrl_close: windows::ctrl_close()?,
                ctrl_logoff: windows::ctrl_logoff()?,
                ctrl_shutdown: windows::ctrl_shutdown()?,
            })
        }
    }

    /// Resolves when one of the stop signals arrives (also one that arrived before the call).
    pub async fn next(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => StopSignal::Interrupt,
                _ = self.terminate.recv() => StopSignal::Terminate,
                _ = self.hangup.recv() => StopSignal::Hangup,
            }
        }
        #[cfg(windows)]
        {
            tokio::select! {
                _ = self.ctrl_c.recv() => StopSignal::CtrlC,
                _ = self.ctrl_break.recv() => StopSignal::CtrlBreak,
                _ = self.ctrl_close.recv() => StopSignal::ConsoleClose,
                _ = self.ctrl_logoff.recv() => StopSignal::Logoff,
                _ = self.ctrl_shutdown.recv() => StopSignal::Shutdown,
            }
        }
    }
}
