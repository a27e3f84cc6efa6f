//! Starting, inspecting and stopping a simulated tenant.

use std::io::Write;
use std::net::SocketAddr;
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

/// A simulated tenant serving on a loopback port of the current tokio runtime. Dropping it
/// stops the server; [`Simulator::shutdown`] also waits for it.
pub struct Simulator {
    state: Arc<SimulatorState>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Binds `listen` (loopback only; port 0 picks a free one) and starts serving `tenant`.
    pub async fn start(
        tenant: TenantFile,
        listen: SocketAddr,
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
        let state = Arc::new(SimulatorState::new(tenant));
        let app =
            routes::router(state.clone()).into_make_service_with_connect_info::<ConnectionSwitch>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(SeverableListener(listener), app)
                .with_graceful_shutdown(async {
                    // A dropped sender means the Simulator is gone: stop as well.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Simulator {
            state,
            local_addr,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT`: the Graph base URL (Graph paths start with `/v1.0` or `/beta`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The environment a client needs to reach this tenant: the managed-identity endpoint
    /// (with its header, or Azure Arc's pair when the tenant simulates an Arc agent), the
    /// app's tenant, client id and secret, and the Graph base URL.
    pub fn client_env(&self) -> Vec<(String, String)> {
        let base = self.base_url();
        let tenant_id = lock(&self.state.tenant).tenant_id.clone();
        let mut env = self.managed_identity_env();
        env.extend(
            [
                ("AZURE_TENANT_ID", tenant_id),
                ("AZURE_CLIENT_ID", self.state.app.client_id.clone()),
                (
                    "AZURE_CLIENT_SECRET",
                    self.state.app.client_secret.expose().to_owned(),
                ),
                ("TAP_RUNBOOK_GRAPH_URL", base),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
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
/// point a client at it, for PowerShell on Windows and a POSIX shell elsewhere. Only the
/// managed-identity set: `AZURE_CLIENT_ID` would turn that path into a user-assigned identity,
/// and the client-secret path cannot reach the simulator (its authority host must be https, and
/// the simulator serves http).
pub fn banner(simulator: &Simulator) -> String {
    let base = simulator.base_url();
    let mut text = format!(
        "Simulated tenant listening on {base} (not Microsoft Graph: test data only)\n\
         Inspect: {base}/_sim/state, {base}/_sim/outbox, {base}/_sim/requests\n\
         Each request served is logged on stderr.\n\
         # Point tap-runbook at it (managed identity; the client-secret path is not offered):\n"
    );
    let mut env = simulator.managed_identity_env();
    env.push(("TAP_RUNBOOK_GRAPH_URL".to_owned(), base));
    for (name, value) in env {
        if cfg!(windows) {
            text.push_str(&format!("$env:{name} = {}\n", powershell_quote(&value)));
        } else {
            text.push_str(&format!("export {name}={}\n", shell_quote(&value)));
        }
    }
    text
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

/// Serves `tenant` on `listen` until `shutdown` completes, after printing [`banner`] to stdout.
/// The caller creates `shutdown` (for example from its stop signals) before calling, so a client
/// that stops the simulator as soon as it has read the banner still gets a clean shutdown.
pub async fn serve_forever(
    tenant: TenantFile,
    listen: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SimulatorError> {
    let simulator = Simulator::start(tenant, listen).await?;
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
