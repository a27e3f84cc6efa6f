//! The one way the job writes a file: privately and atomically.
//!
//! The result file holds the pass, and the outbox holds who was told what. Both often go to a
//! folder other accounts can write to (a temp folder, a shared job folder), where someone may
//! have planted a link at the name the job will use. So the content goes into a new file with
//! a random name beside the target, created exclusively (an existing file or link there makes
//! the create fail instead of being followed) and readable by the job's account only; it is
//! written in full and synced, then renamed over the target. The rename replaces whatever is
//! at the target, a link included, without following it, and a reader sees the old content or
//! the new, never a part.
//!
//! On Unix the file is created with mode 0600 and `O_NOFOLLOW`, and the folder is synced after
//! the rename so the new name survives a crash. On Windows the file gets the folder's
//! inherited ACL (the README's security model says so); `CREATE_NEW` refuses an existing file
//! or link just the same.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How often a fresh random name is tried when one is taken. 64 random bits make a clash all
/// but impossible unless someone is racing the job for names.
const NAME_TRIES: usize = 8;

/// Writes `contents` to `path` atomically, as a file only the current account can read.
pub fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let folder = folder_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let (temp, mut file) = create_temp(folder, name)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    sync_folder(folder)
}

/// Creates `folder` and any missing parents; on Unix the new ones are private (0700).
pub fn create_private_folder(folder: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// The folder a path lives in; a bare file name lives in the current folder.
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn create_temp(folder: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..NAME_TRIES {
        let temp = folder.join(format!(
            ".{}.{:016x}.tmp",
            name.to_string_lossy(),
            rand::random::<u64>()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Makes the rename durable. Some file systems cannot sync a folder (EINVAL); the file itself
/// is synced already, so that is no failure.
#[cfg(unix)]
fn sync_folder(folder: &Path) -> io::Result<()> {
    match File::open(folder).and_then(|f| f.sync_all()) {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Windows cannot open a folder as a file to sync it; NTFS journals the rename.
#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        write_private_file(&path, b"first").unwrap();
        write_private_file(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_even_when_the_old_one_was_not() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        let path = dir.path().join("1.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_private_file(&path, b"record").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), b"record");
    }

    /// The temporary name once was `.{name}.{pid}.tmp`: a link planted there received the pass.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_a_predictable_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        let predictable = dir
            .path()
            .join(format!(".result.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &predictable).unwrap();
        write_private_file(&dir.path().join("result.json"), b"the pass").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_private_file(&dir.path().join(".."), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
