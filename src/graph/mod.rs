//! The one Microsoft Graph client: base URL per cloud, bearer
//! token, one retry policy, one error-envelope parser, and the typed calls of the workflow.

mod calls;
mod client;
mod error;
mod model;
mod path;

pub use calls::Deleted;
pub use client::{GraphAttempt, GraphClient, GraphConfig};
pub use error::{GraphCall, GraphError, GraphErrorKind};
pub use model::{CreatePass, CreatedPass, GraphUser, TapMethod, TapPolicy};
pub use path::UserRef;
