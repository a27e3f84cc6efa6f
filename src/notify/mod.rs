//! The user notification email (DESIGN.md §7).
