//! The one Microsoft Graph client (DESIGN.md §5, HTTP behaviour).
