//! Integration tests: notify — the notification email.

mod branding;
mod escaping;
mod fixtures;
mod https_server;
mod language;
mod rendering;
mod sendmail;
