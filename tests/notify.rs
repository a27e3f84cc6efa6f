//! Integration tests: notify — the notification email.

mod branding;
mod escaping;
pub mod fixtures;
pub mod https_server;
mod language;
mod rendering;
mod sendmail;
