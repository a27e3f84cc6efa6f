//! Integration tests: notify.
