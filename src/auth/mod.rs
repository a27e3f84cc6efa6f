//! Credential selection and token acquisition (DESIGN.md §6).
