//! One job per user at a time on this machine: a lock file per user object id.
//!
//! Graph keeps one pass per user, so two jobs for the same user that interleave invalidate
//! each other's passes. Jobs on one machine take the user's lock before they touch a pass and
//! hold it until they have checked that their new pass is still the user's. The lock file
//! also records when its last holder let go, so a job that read the user's passes before it
//! got the lock knows whether that list may be stale.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// The variable that moves the lock folder, e.g. onto storage that several jobs share.
pub const LOCK_DIR_VARIABLE: &str = "TAP_RUNBOOK_LOCK_DIR";

/// How often a waiting job tries the lock again.
const POLL: Duration = Duration::from_millis(25);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another job held it until the time allowed for waiting ran out.
    #[error("another job for this user held the lock {} until this job could wait no longer", .0.display())]
    Busy(PathBuf),
    /// The lock folder or file could not be used.
    #[error("the lock file {} cannot be used: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The folder of the per-user lock files.
#[derive(Debug, Clone)]
pub struct UserLocks {
    dir: PathBuf,
}

impl UserLocks {
    /// Locks in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `TAP_RUNBOOK_LOCK_DIR` when set, else `tap-runbook-locks` in the OS's temporary folder
    /// (`$TMPDIR` or `/tmp`, `%TEMP%` on Windows).
    pub fn from_environment() -> Self {
        match std::env::var_os(LOCK_DIR_VARIABLE).filter(|v| !v.is_empty()) {
            Some(dir) => Self::in_dir(dir),
            None => Self::in_dir(std::env::temp_dir().join("tap-runbook-locks")),
        }
    }

    /// The lock file of `user_id` in the tenant behind `graph` (its host and port), so
    /// rehearsals against simulated tenants never wait for live jobs.
    pub fn path_for(&self, graph: &reqwest::Url, user_id: &str) -> PathBuf {
        let host = graph.host_str().unwrap_or("graph");
        let port = graph.port().map(|p| format!("_{p}")).unwrap_or_default();
        self.dir.join(format!(
            "{}@{}{port}.lock",
            file_name_part(user_id),
            file_name_part(host)
        ))
    }

    /// Takes the lock at `path`, waiting for another holder until `until`. `on_wait` is called
    /// once, when the lock is found taken.
    pub async fn acquire(
        &self,
        path: &Path,
        until: Instant,
        on_wait: impl FnOnce(),
    ) -> Result<UserLock, LockError> {
        let io_error = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        create_private_dir(&self.dir).map_err(io_error)?;
        let mut file = open_lock_file(path).map_err(io_error)?;
        let mut on_wait = Some(on_wait);
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                    if Instant::now() + POLL >= until {
                        return Err(LockError::Busy(path.to_path_buf()));
                    }
                    tokio::time::sleep(POLL).await;
                }
                Err(TryLockError::Error(e)) => return Err(io_error(e)),
            }
        }
        let last_release = read_release_time(&mut file);
        Ok(UserLock {
            file,
            path: path.to_path_buf(),
            last_release,
            waited: started.elapsed(),
        })
    }
}

/// A held user lock. Dropping it records the release time and lets the next job in.
#[derive(Debug)]
pub struct UserLock {
    file: File,
    path: PathBuf,
    last_release: Option<SystemTime>,
    waited: Duration,
}

impl UserLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long the job waited for it.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Whether an earlier holder let go at or after `t`: a list of the user's passes read at
    /// `t` may then miss that holder's pass.
    pub fn released_since(&self, t: SystemTime) -> bool {
        self.last_release.is_some_and(|r| r >= t)
    }
}

impl Drop for UserLock {
    fn drop(&mut self) {
        // Best effort: a missing stamp only costs the next job its certainty, and the delete's
        // 404 and the check after the create still catch a stale list.
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let stamp = format!("{}.{:09}\n", now.as_secs(), now.subsec_nanos());
        let _ = self
            .file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(stamp.as_bytes()))
            .and_then(|()| self.file.flush());
        let _ = self.file.unlock();
    }
}

/// The last holder's release time, written as `seconds.nanoseconds` since the Unix epoch.
fn read_release_time(file: &mut File) -> Option<SystemTime> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    let (secs, nanos) = text.trim().split_once('.')?;
    let since_epoch = Duration::new(secs.parse().ok()?, nanos.parse().ok()?);
    SystemTime::UNIX_EPOCH.checked_add(since_epoch)
}

/// Letters, digits, `-` and `.` as they are; anything else (a path separator in a hostile
/// id, say) becomes `_`, so the name stays one file inside the lock folder.
fn file_name_part(text: &str) -> String {
    let part: String = text
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    part.trim_start_matches('.').to_owned()
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens (or creates) the lock file for reading and writing without following a planted
/// link, readable by this account only.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn lock_names_stay_inside_the_folder() {
        let locks = UserLocks::in_dir("/locks");
        assert_eq!(
            locks.path_for(
                &url("https://graph.microsoft.com"),
                "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
            ),
            Path::new("/locks/3f2504e0-4f89-11d3-9a0c-0305e82c3301@graph.microsoft.com.lock")
        );
        let hostile = locks.path_for(&url("http://127.0.0.1:8080"), "../../etc/passwd");
        assert_eq!(hostile.parent(), Some(Path::new("/locks")));
        assert_eq!(
            hostile.file_name().unwrap(),
            "_.._etc_passwd@127.0.0.1_8080.lock"
        );
    }

    #[tokio::test]
    async fn a_second_holder_waits_and_learns_of_the_release() {
        let dir = tempfile::tempdir().unwrap();
        let locks = UserLocks::in_dir(dir.path().join("locks"));
        let path = locks.path_for(&url("http://127.0.0.1:1"), "user");
        let before = SystemTime::now();
        let first = locks
            .acquire(&path, Instant::now() + Duration::from_secs(5), || {})
            .await
            .unwrap();
        assert!(!first.released_since(before), "nobody released it yet");
        let busy = locks
            .acquire(&path, Instant::now() + Duration::from_millis(60), || {})
            .await;
        assert!(matches!(busy, Err(LockError::Busy(_))), "{busy:?}");
        drop(first);
        let mut waited = false;
        let second = locks
            .acquire(&path, Instant::now() + Duration::from_secs(5), || {
                waited = true
            })
            .await
            .unwrap();
        assert!(!waited);
        assert!(second.released_since(before));
        assert!(!second.released_since(SystemTime::now() + Duration::from_secs(60)));
    }
}
