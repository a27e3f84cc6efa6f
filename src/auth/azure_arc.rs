//! The challenge of an Azure Arc-enabled server's identity endpoint. The Connected Machine
//! agent answers a token request with 401 and `WWW-Authenticate: Basic realm=<key file>`;
//! whoever can read that file (the `himds` group on Linux, Administrators or "Hybrid Agent
//! Extension Applications" on Windows) repeats the request with its content. Whatever listens
//! at `IDENTITY_ENDPOINT` chooses the realm, so it is trusted only when it names a small
//! `*.key` file directly inside the agent's own tokens folder: anything else would let that
//! listener make the job read, and send it, a file of its choosing.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

use crate::secret::Secret;

/// The agent's key files are a few dozen bytes; a larger file is not one of them.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

/// The folder the Connected Machine agent writes its challenge key files to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcTokensFolder(PathBuf);

impl ArcTokensFolder {
    /// The agent's folder on this operating system. It is fixed, never read from the
    /// environment: whoever sets the job's variables must not be able to widen what the job
    /// reads. (Windows: `%ProgramData%` is spelled out for the same reason.)
    pub fn agent() -> Self {
        if cfg!(windows) {
            Self(PathBuf::from(
                r"C:\ProgramData\AzureConnectedMachineAgent\Tokens",
            ))
        } else {
            Self(PathBuf::from("/var/opt/azcmagent/tokens"))
        }
    }

    /// Another folder, e.g. a temporary one a test's simulated agent writes to.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The folder as configured (before links are resolved).
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The key a 401's `WWW-Authenticate: Basic realm=…` asks for, read only after every
    /// check passed; the reason otherwise. Messages name paths, never the content.
    pub(crate) fn answer(&self, headers: &HeaderMap) -> Result<Secret, String> {
        let realm = realm(headers)?;
        self.read_key(&realm)
    }

    fn read_key(&self, realm: &str) -> Result<Secret, String> {
        let named = Path::new(realm);
        let refuse = |why: String| {
            format!(
                "the key file its challenge named, {realm:?}, was refused: {why}; nothing was sent"
            )
        };
        if !named.is_absolute() {
            return Err(refuse("not an absolute path".into()));
        }
        if !has_key_extension(named) {
            return Err(refuse("not a .key file".into()));
        }
        // As written first, before the file system is asked anything about the path: on
        // Windows even resolving a UNC path would open a connection to the host it names.
        if !named
            .parent()
            .is_some_and(|parent| same_path(parent, &self.0))
        {
            return Err(refuse(format!(
                "it is not directly inside the agent's tokens folder {}",
                self.0.display()
            )));
        }
        let folder = fs::canonicalize(&self.0).map_err(|e| {
            refuse(format!(
                "the agent's tokens folder {} cannot be resolved ({e})",
                self.0.display()
            ))
        })?;
        let file =
            fs::canonicalize(named).map_err(|e| refuse(format!("it cannot be resolved ({e})")))?;
        if file.parent() != Some(folder.as_path()) {
            return Err(refuse(format!(
                "it leads to {}, outside the agent's tokens folder {}",
                file.display(),
                self.0.display()
            )));
        }
        if !has_key_extension(&file) {
            return Err(refuse(format!(
                "it leads to {}, not a .key file",
                file.display()
            )));
        }
        let mut opened = File::open(&file).map_err(|e| refuse(format!("cannot open it ({e})")))?;
        let metadata = opened
            .metadata()
            .map_err(|e| refuse(format!("cannot inspect it ({e})")))?;
        if !metadata.is_file() {
            return Err(refuse("not a regular file".into()));
        }
        if metadata.len() > MAX_KEY_FILE_BYTES {
            return Err(refuse(format!("larger than {MAX_KEY_FILE_BYTES} bytes")));
        }
        // Bounded again while reading: the file may have grown since it was inspected.
        let mut bytes = Vec::new();
        (&mut opened)
            .take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| refuse(format!("cannot read it ({e})")))?;
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(refuse(format!("larger than {MAX_KEY_FILE_BYTES} bytes")));
        }
        let key = std::str::from_utf8(&bytes)
            .map(str::trim)
            .map_err(|_| refuse("its content is not text".into()))?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refuse("its content is not a key".into()));
        }
        Ok(Secret::new(key))
    }
}

/// The path in `WWW-Authenticate: Basic realm=<path>` (quotes allowed).
fn realm(headers: &HeaderMap) -> Result<String, String> {
    let challenges: Vec<&str> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    challenges
        .iter()
        .find_map(|c| {
            let (scheme, rest) = c.trim().split_once(char::is_whitespace)?;
            let value = rest.trim().strip_prefix("realm=")?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (scheme.eq_ignore_ascii_case("Basic") && !value.is_empty()).then(|| value.to_owned())
        })
        .ok_or_else(|| match challenges.first() {
            None => "the endpoint answered 401 without a WWW-Authenticate challenge".to_owned(),
            Some(c) => format!(
                "the endpoint answered 401 with a challenge that names no key file ({:?})",
                truncate(c, 200)
            ),
        })
}

/// Whether two paths are the same as written, component by component (ignoring letter case
/// on Windows, as its file systems do); `..` is a component like any other here.
fn same_path(a: &Path, b: &Path) -> bool {
    let same = |x: Component<'_>, y: Component<'_>| {
        if cfg!(windows) {
            x.as_os_str()
                .to_string_lossy()
                .eq_ignore_ascii_case(&y.as_os_str().to_string_lossy())
        } else {
            x == y
        }
    };
    let (mut a, mut b) = (a.components(), b.components());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if same(x, y) => {}
            _ => return false,
        }
    }
}

fn has_key_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("key"))
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn challenge(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        headers
    }

    struct Agent {
        root: tempfile::TempDir,
        folder: ArcTokensFolder,
    }

    impl Agent {
        fn new() -> Self {
            let root = tempfile::tempdir().unwrap();
            let tokens = root.path().join("tokens");
            fs::create_dir(&tokens).unwrap();
            Self {
                folder: ArcTokensFolder::new(&tokens),
                root,
            }
        }

        fn tokens(&self) -> PathBuf {
            self.folder.path().to_path_buf()
        }

        fn outside(&self) -> PathBuf {
            let dir = self.root.path().join("outside");
            fs::create_dir_all(&dir).unwrap();
            dir
        }

        fn answer(&self, realm: &Path) -> Result<Secret, String> {
            self.folder
                .answer(&challenge(&format!("Basic realm={}", realm.display())))
        }
    }

    #[test]
    fn reads_a_key_directly_inside_the_folder() {
        let agent = Agent::new();
        let key = agent.tokens().join("0a1b.key");
        fs::write(&key, "c2VjcmV0LWtleQ==\n").unwrap();
        assert_eq!(agent.answer(&key).unwrap().expose(), "c2VjcmV0LWtleQ==");
        let quoted = challenge(&format!("Basic realm=\"{}\"", key.display()));
        assert_eq!(
            agent.folder.answer(&quoted).unwrap().expose(),
            "c2VjcmV0LWtleQ=="
        );
        // An agent folder that is itself a link is resolved like the file.
        #[cfg(unix)]
        {
            let linked = agent.root.path().join("linked-tokens");
            std::os::unix::fs::symlink(agent.tokens(), &linked).unwrap();
            let via_link = ArcTokensFolder::new(&linked);
            let realm = format!("Basic realm={}", linked.join("0a1b.key").display());
            assert_eq!(
                via_link.answer(&challenge(&realm)).unwrap().expose(),
                "c2VjcmV0LWtleQ=="
            );
        }
    }

    #[test]
    fn refuses_every_other_realm_without_reading_it() {
        let agent = Agent::new();
        let secret = "the-content-that-must-not-travel";
        let outside = agent.outside().join("stolen.key");
        fs::write(&outside, secret).unwrap();
        let escape = agent.tokens().join("..").join("outside").join("stolen.key");
        let not_a_key = agent.tokens().join("passwd");
        fs::write(&not_a_key, secret).unwrap();
        let big = agent.tokens().join("big.key");
        fs::write(&big, "k".repeat(MAX_KEY_FILE_BYTES as usize + 1)).unwrap();
        let nested = agent.tokens().join("sub");
        fs::create_dir(&nested).unwrap();
        fs::write(nested.join("deep.key"), secret).unwrap();
        let mut cases = vec![
            (outside.clone(), "not directly inside"),
            (escape, "not directly inside"),
            (not_a_key, "not a .key file"),
            (big, "larger than 4096 bytes"),
            (nested.join("deep.key"), "not directly inside"),
            (PathBuf::from("relative.key"), "not an absolute path"),
            (agent.tokens().join("missing.key"), "cannot be resolved"),
        ];
        #[cfg(unix)]
        {
            let link = agent.tokens().join("link.key");
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            cases.push((link, "outside the agent's tokens folder"));
            let disguised = agent.tokens().join("disguised.key");
            std::os::unix::fs::symlink(agent.tokens().join("passwd"), &disguised).unwrap();
            cases.push((disguised, "not a .key file"));
        }
        for (realm, why) in cases {
            let error = agent.answer(&realm).unwrap_err();
            assert!(error.contains(why), "{realm:?}: {error}");
            assert!(!error.contains(secret));
        }
        let gone = ArcTokensFolder::new(agent.root.path().join("no-agent"));
        let realm = gone.path().join("0a1b.key");
        let error = gone
            .answer(&challenge(&format!("Basic realm={}", realm.display())))
            .unwrap_err();
        assert!(
            error.contains("the agent's tokens folder") && error.contains("cannot be resolved"),
            "{error}"
        );
    }

    #[test]
    fn a_challenge_without_a_realm_is_explained() {
        let folder = ArcTokensFolder::new("/nonexistent");
        assert!(
            folder
                .answer(&HeaderMap::new())
                .unwrap_err()
                .contains("without a WWW-Authenticate")
        );
        assert!(
            folder
                .answer(&challenge("Bearer authorization_uri=x"))
                .unwrap_err()
                .contains("names no key file")
        );
    }

    #[test]
    fn the_agent_folder_is_fixed() {
        let folder = ArcTokensFolder::agent();
        if cfg!(windows) {
            assert!(
                folder
                    .path()
                    .ends_with(r"AzureConnectedMachineAgent\Tokens")
            );
        } else {
            assert_eq!(folder.path(), Path::new("/var/opt/azcmagent/tokens"));
        }
    }
}
