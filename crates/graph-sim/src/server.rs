//! Starting, inspecting and stopping a simulated tenant.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::connection::{ConnectionSwitch, SeverableListener};
use super::error::SimulatorError;
use super::records::{OutboxEntry, RecordedRequest};
use super::routes;
use super::state::{SimulatorState, lock};
use super::tenant_file::{FaultSpec, TenantFile};
use super::tls::LoopbackCa;

/// Where an HTTPS simulator writes its CA's certificate, for a client to trust (as
/// `TAP_RUNBOOK_CA_FILE`). The file holds the certificate only, never a key.
#[derive(Debug, Clone)]
pub enum CaFile {
    /// A new file in the temporary folder, removed when the simulator stops.
    Temporary,
    /// This file, created or replaced, and left in place.
    At(PathBuf),
}

/// The CA certificate file of a running HTTPS simulator.
#[derive(Debug)]
struct WrittenCaFile {
    path: PathBuf,
    remove_on_drop: bool,
}

impl WrittenCaFile {
    fn write(ca_file: CaFile, ca: &LoopbackCa, port: u16) -> Result<WrittenCaFile, SimulatorError> {
        let (path, remove_on_drop) = match ca_file {
            CaFile::Temporary => (
                std::env::temp_dir()
                    .join(format!("graph-sim-ca-{}-{port}.pem", std::process::id())),
                true,
            ),
            CaFile::At(path) => (path, false),
        };
        let mut options = std::fs::OpenOptions::new();
        // A temporary name is never reused: whatever already stands there (a planted link, a
        // stale file) is not written through.
        options.write(true);
        if remove_on_drop {
            options.create_new(true);
        } else {
            options.create(true).truncate(true);
        }
        options
            .open(&path)
            .and_then(|mut file| file.write_all(ca.certificate_pem().as_bytes()))
            .map_err(|source| SimulatorError::CaFile {
                path: path.clone(),
                source,
            })?;
        Ok(WrittenCaFile {
            path,
            remove_on_drop,
        })
    }
}

impl Drop for WrittenCaFile {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A simulated tenant serving on a loopback port of the current tokio runtime. Dropping it
/// stops the server; [`Simulator::shutdown`] also waits for it.
pub struct Simulator {
    state: Arc<SimulatorState>,
    local_addr: SocketAddr,
    /// Set when serving HTTPS.
    ca_file: Option<WrittenCaFile>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Binds `listen` (loopback only; port 0 picks a free one) and starts serving `tenant`
    /// over plain HTTP.
    pub async fn start(
        tenant: TenantFile,
        listen: SocketAddr,
    ) -> Result<Simulator, SimulatorError> {
        Self::start_with(tenant, listen, None).await
    }

    /// As [`Simulator::start`], over HTTPS with a certificate from a CA made for this start,
    /// whose certificate is written to `ca_file`. The client-secret path needs this: its
    /// sign-in host must be https.
    pub async fn start_https(
        tenant: TenantFile,
        listen: SocketAddr,
        ca_file: CaFile,
    ) -> Result<Simulator, SimulatorError> {
        Self::start_with(tenant, listen, Some(ca_file)).await
    }

    /// Serves plain HTTP without `https`, else HTTPS with its CA certificate written there.
    pub async fn start_with(
        tenant: TenantFile,
        listen: SocketAddr,
        https: Option<CaFile>,
    ) -> Result<Simulator, SimulatorError> {
        if !listen.ip().is_loopback() {
            return Err(SimulatorError::NotLoopback { addr: listen });
        }
        let bind_error = |source| SimulatorError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let (listener, ca_file) = match https {
            None => (SeverableListener::Plain(listener), None),
            Some(ca_file) => {
                let ca = LoopbackCa::generate()?;
                let written = WrittenCaFile::write(ca_file, &ca, local_addr.port())?;
                let listener =
                    SeverableListener::tls(listener, ca.acceptor()).map_err(bind_error)?;
                (listener, Some(written))
            }
        };
        let scheme = if ca_file.is_some() { "https" } else { "http" };
        let state = Arc::new(SimulatorState::new(tenant, scheme));
        let app =
            routes::router(state.clone()).into_make_service_with_connect_info::<ConnectionSwitch>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // A dropped sender means the Simulator is gone: stop as well.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Simulator {
            state,
            local_addr,
            ca_file,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` (or `https://`): the Graph base URL, which is also the sign-in
    /// host (Graph paths start with `/v1.0` or `/beta`).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.state.scheme, self.local_addr)
    }

    /// The file holding the CA certificate that an HTTPS simulator's certificate chains to.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_ref().map(|f| f.path.as_path())
    }

    /// The environment a client needs to reach this tenant: the managed-identity endpoint
    /// (with its header, or Azure Arc's pair when the tenant simulates an Arc agent), the
    /// app's tenant, client id and secret (with the sign-in host when serving HTTPS), the
    /// Graph base URL, and over HTTPS the CA file.
    pub fn client_env(&self) -> Vec<(String, String)> {
        let mut env = self.managed_identity_env();
        env.extend(self.client_secret_env());
        env.extend(self.graph_env());
        env
    }

    /// The app registration's client-secret variables: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`, and over HTTPS `AZURE_AUTHORITY_HOST` (a client refuses an
    /// http sign-in host, so a plain simulator names none).
    pub fn client_secret_env(&self) -> Vec<(String, String)> {
        let tenant_id = lock(&self.state.tenant).tenant_id.clone();
        let mut env = vec![
            ("AZURE_TENANT_ID", tenant_id),
            ("AZURE_CLIENT_ID", self.state.app.client_id.clone()),
            (
                "AZURE_CLIENT_SECRET",
                self.state.app.client_secret.expose().to_owned(),
            ),
        ];
        if self.ca_file.is_some() {
            env.push(("AZURE_AUTHORITY_HOST", self.base_url()));
        }
        env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// What either credential needs besides its own variables: `TAP_RUNBOOK_GRAPH_URL`, and
    /// over HTTPS `TAP_RUNBOOK_CA_FILE`.
    pub fn graph_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("TAP_RUNBOOK_GRAPH_URL".to_owned(), self.base_url())];
        if let Some(path) = self.ca_file() {
            env.push((
                "TAP_RUNBOOK_CA_FILE".to_owned(),
                path.to_string_lossy().into_owned(),
            ));
        }
        env
    }

    /// Only the managed-identity variables of [`Simulator::client_env`]: `IDENTITY_ENDPOINT`
    /// with `IDENTITY_HEADER`, or with `IMDS_ENDPOINT` for a simulated Azure Arc agent.
    pub fn managed_identity_env(&self) -> Vec<(String, String)> {
        let base = self.base_url();
        let pairs = match self.state.app.arc_key_folder {
            Some(_) => [
                (
                    "IDENTITY_ENDPOINT",
                    format!("{base}/metadata/identity/oauth2/token"),
                ),
                ("IMDS_ENDPOINT", base),
            ],
            None => [
                ("IDENTITY_ENDPOINT", format!("{base}/msi/token")),
                (
                    "IDENTITY_HEADER",
                    self.state.identity_header.expose().to_owned(),
                ),
            ],
        };
        pairs.map(|(k, v)| (k.to_owned(), v)).into()
    }

    /// Users, their passes (with values) and the policy, as `/_sim/state` shows them.
    pub fn state(&self) -> Value {
        lock(&self.state.tenant).snapshot(OffsetDateTime::now_utc())
    }

    /// Every mail accepted so far, in order.
    pub fn outbox(&self) -> Vec<OutboxEntry> {
        lock(&self.state.outbox).clone()
    }

    /// Every Graph and token request served so far, in order (not `/_sim/*`).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Arms another fault after the tenant file's.
    pub fn add_fault(&self, fault: FaultSpec) -> Result<(), SimulatorError> {
        fault
            .validate()
            .map_err(|(field, message)| SimulatorError::InvalidFault { field, message })?;
        lock(&self.state.faults).add(fault);
        Ok(())
    }

    /// Makes every token issued so far expire now.
    pub fn expire_tokens(&self) {
        lock(&self.state.tokens).expire_all(OffsetDateTime::now_utc());
    }

    /// Stops accepting connections and waits until open ones are done.
    pub async fn shutdown(mut self) -> Result<(), SimulatorError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => match server.await {
                Ok(result) => result.map_err(SimulatorError::Serve),
                Err(join) => Err(SimulatorError::Serve(std::io::Error::other(join))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What `tap-runbook simulator` prints on start: where the tenant is and the shell lines that
/// point a client at it, for PowerShell on Windows and a POSIX shell elsewhere. Over plain
/// HTTP only the managed-identity set: the client-secret path cannot reach the simulator then
/// (its sign-in host must be https). Over HTTPS the client-secret set follows as an alternative
/// of its own, never in one block with the managed-identity set, whose path `AZURE_CLIENT_ID`
/// would turn into a user-assigned identity.
pub fn banner(simulator: &Simulator) -> String {
    let base = simulator.base_url();
    let mut text = format!(
        "Simulated tenant listening on {base} (not Microsoft Graph: test data only)\n\
         Inspect: {base}/_sim/state, {base}/_sim/outbox, {base}/_sim/requests\n\
         Each request served is logged on stderr.\n"
    );
    if simulator.ca_file.is_none() {
        text.push_str(
            "# Point tap-runbook at it (managed identity; the client-secret path needs --https):\n",
        );
        export(&mut text, simulator.managed_identity_env());
        export(&mut text, simulator.graph_env());
        return text;
    }
    text.push_str(
        "# Point tap-runbook at it: these lines, then ONE of the two credential sets below.\n",
    );
    export(&mut text, simulator.graph_env());
    text.push_str("# Either the managed identity:\n");
    export(&mut text, simulator.managed_identity_env());
    text.push_str(
        "# Or, in a shell without the managed-identity lines, the app's client secret:\n",
    );
    export(&mut text, simulator.client_secret_env());
    text
}

/// Appends one shell line per variable.
fn export(text: &mut String, env: Vec<(String, String)>) {
    for (name, value) in env {
        if cfg!(windows) {
            text.push_str(&format!("$env:{name} = {}\n", powershell_quote(&value)));
        } else {
            text.push_str(&format!("export {name}={}\n", shell_quote(&value)));
        }
    }
}

/// Quotes a value for POSIX shells unless it is made only of safe characters.
fn shell_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// A PowerShell single-quoted (verbatim) string. PowerShell also reads the typographic single
/// quotes U+2018 to U+201B as quote marks, so each of them is doubled like `'`.
fn powershell_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

/// Serves `tenant` on `listen` (over HTTPS with `https`, see [`Simulator::start_with`]) until
/// `shutdown` completes, after printing [`banner`] to stdout. The caller creates `shutdown`
/// (for example from its stop signals) before calling, so a client that stops the simulator as
/// soon as it has read the banner still gets a clean shutdown.
pub async fn serve_forever(
    tenant: TenantFile,
    listen: SocketAddr,
    https: Option<CaFile>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SimulatorError> {
    let simulator = Simulator::start_with(tenant, listen, https).await?;
    simulator
        .state
        .log_requests
        .store(true, std::sync::atomic::Ordering::Relaxed);
    print!("{}", banner(&simulator));
    let _ = std::io::stdout().flush();
    shutdown.await;
    simulator.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::{powershell_quote, shell_quote};

    #[test]
    fn posix_quotes_only_when_needed() {
        assert_eq!(
            shell_quote("http://127.0.0.1:8080/msi/token"),
            "http://127.0.0.1:8080/msi/token"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn powershell_strings_are_verbatim_with_quotes_doubled() {
        assert_eq!(
            powershell_quote("http://127.0.0.1:8080/msi/token"),
            "'http://127.0.0.1:8080/msi/token'"
        );
        assert_eq!(powershell_quote(""), "''");
        assert_eq!(powershell_quote("it's"), "'it''s'");
        // No expansion inside single quotes: `$`, backtick and `"` stay as they are.
        assert_eq!(powershell_quote("$x`n\"y\""), "'$x`n\"y\"'");
        assert_eq!(
            powershell_quote("a\u{2018}b\u{2019}c"),
            "'a\u{2018}\u{2018}b\u{2019}\u{2019}c'"
        );
    }
}
