//! Running the binary as a job host does when it stops a job: start it, read its records as
//! they come, and send signals at chosen moments.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Run, assert_no_leak, secrets_of};

/// What the job reads on standard input.
pub enum Stdin {
    /// These bytes, then end of input.
    Bytes(Vec<u8>),
    /// Nothing, and the pipe stays open: the job waits for input that never comes.
    HeldOpen,
}

/// One step of a stop: once a stdout line contains `marker` (at once when it is empty, after
/// the job listens for signals), send `signal`.
pub struct Step {
    pub marker: &'static str,
    pub signal: i32,
}

/// Runs the binary with only `env`, performs `steps`, and returns how it ended. Every run goes
/// through the leak checker.
pub fn run_with_signals(
    args: &[&str],
    env: &[(String, String)],
    stdin: Stdin,
    steps: &[Step],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tap-runbook"));
    cmd.env_clear().args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut held = child.stdin.take();
    if let Stdin::Bytes(bytes) = stdin {
        let mut pipe = held.take().unwrap();
        pipe.write_all(&bytes).unwrap();
    }
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for step in steps {
        if step.marker.is_empty() {
            wait_for_signal_handlers(child.id());
        } else {
            for line in lines.by_ref() {
                let line = line.unwrap();
                let found = line.contains(step.marker);
                seen.push(line);
                if found {
                    break;
                }
            }
        }
        // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
        let sent = unsafe { libc::kill(child.id() as libc::pid_t, step.signal) };
        assert_eq!(sent, 0, "the signal was sent");
    }
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    drop(held);
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: seen.join("\n"),
        stderr: stderr.join().unwrap(),
    };
    assert_no_leak(&run, &secrets_of(env));
    run
}

/// Waits until the process catches SIGINT and SIGTERM, as Linux shows in
/// `/proc/PID/status`: before that a signal would still end it the default way.
fn wait_for_signal_handlers(pid: u32) {
    let wanted = (1u64 << (libc::SIGINT - 1)) | (1u64 << (libc::SIGTERM - 1));
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & wanted == wanted {
            return;
        }
        assert!(
            Instant::now() < give_up,
            "the job never listened for signals"
        );
        std::thread::yield_now();
    }
}

/// `tap-runbook simulator` started as an operator would, with its banner read.
pub struct StandaloneSimulator {
    child: std::process::Child,
    /// The banner's lines, up to the one the caller waited for.
    pub banner: Vec<String>,
}

impl StandaloneSimulator {
    /// Starts the demo tenant with `flags` and reads the banner up to the line exporting `last`.
    pub fn start(flags: &[&str], last: &str) -> StandaloneSimulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tap-runbook"))
            .env_clear()
            .args([
                "simulator",
                "--tenant",
                super::fixture("tenant.json").to_str().unwrap(),
            ])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut banner = Vec::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let done = line.starts_with(&format!("export {last}="));
            banner.push(line);
            if done {
                break;
            }
        }
        StandaloneSimulator { child, banner }
    }

    /// The variables exported between the comment line starting with `heading` and the next
    /// comment line, unquoted.
    pub fn exports(&self, heading: &str) -> Vec<(String, String)> {
        self.banner
            .iter()
            .skip_while(|l| !l.starts_with(heading))
            .skip(1)
            .take_while(|l| !l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(name, value)| (name.to_owned(), posix_unquote(value)))
            .collect()
    }

    /// Stops it with SIGTERM and returns its stderr, once it has exited cleanly.
    pub fn stop(mut self) -> String {
        // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "the signal was sent");
        assert_eq!(self.child.wait().unwrap().code(), Some(0));
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        stderr
    }
}

impl Drop for StandaloneSimulator {
    /// A test that failed before `stop` leaves no simulator running (a child process outlives
    /// its `Child`); after `stop` the child was waited for, and this does nothing.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value a POSIX shell assigns for `value` as the banner quotes it.
fn posix_unquote(value: &str) -> String {
    match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(quoted) => quoted.replace(r"'\''", "'"),
        None => value.to_owned(),
    }
}
