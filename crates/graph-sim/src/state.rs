//! The state shared by every request the simulator serves.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use super::faults::{FaultBook, Throttle};
use super::pass::random_alphanumeric;
use super::records::{OutboxEntry, RecordedRequest};
use super::tenant::SimulatedTenant;
use super::tenant_file::{AppRegistration, TenantFile};
use super::tokens::{TokenIssuer, TokenStore};
use crate::secret::Secret;

/// The tenant plus everything the simulator tracks about its clients.
#[derive(Debug)]
pub(crate) struct SimulatorState {
    pub app: AppRegistration,
    /// `http`, or `https` when serving TLS: what URLs the tenant hands out start with.
    pub scheme: &'static str,
    /// What clients send as `X-IDENTITY-HEADER` / `secret` on the managed-identity route.
    pub identity_header: Secret,
    pub latency: Duration,
    pub tenant: Mutex<SimulatedTenant>,
    pub tokens: Mutex<TokenStore>,
    pub faults: Mutex<FaultBook>,
    pub throttle: Option<Mutex<Throttle>>,
    pub outbox: Mutex<Vec<OutboxEntry>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Counts arrivals and answers together, so the request log orders them without a clock.
    pub events: std::sync::atomic::AtomicU64,
    /// The standalone simulator tells on stderr each request it serves, for whoever drives
    /// it from another shell.
    pub log_requests: std::sync::atomic::AtomicBool,
    /// Key files of Azure Arc challenges not yet answered.
    pub arc_challenges: Mutex<Vec<PathBuf>>,
}

impl SimulatorState {
    pub fn new(file: TenantFile, scheme: &'static str) -> Self {
        let now = OffsetDateTime::now_utc();
        let identity_header = file
            .app
            .identity_header
            .clone()
            .unwrap_or_else(|| Secret::new(random_alphanumeric(32)));
        Self {
            identity_header,
            scheme,
            latency: Duration::from_millis(file.latency_ms),
            tenant: Mutex::new(SimulatedTenant::new(&file, now)),
            tokens: Mutex::new(TokenStore::new(
                TokenIssuer {
                    tenant_id: file.tenant_id.clone(),
                    client_id: file.app.client_id.clone(),
                },
                file.app.token_lifetime_seconds,
            )),
            faults: Mutex::new(FaultBook::new(&file.faults)),
            throttle: file.throttle.clone().map(|t| Mutex::new(Throttle::new(t))),
            outbox: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            events: std::sync::atomic::AtomicU64::new(0),
            log_requests: std::sync::atomic::AtomicBool::new(false),
            arc_challenges: Mutex::new(Vec::new()),
            app: file.app,
        }
    }
}

impl Drop for SimulatorState {
    /// The simulated agent's unanswered challenges go with it, as the real agent's expire.
    fn drop(&mut self) {
        for file in lock(&self.arc_challenges).drain(..) {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Locks a mutex; a panic in another request must not take the whole simulator down, and the
/// guarded data stays consistent because no critical section awaits or panics midway.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
