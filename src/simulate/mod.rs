//! The simulated tenant: a small, faithful Microsoft Graph on loopback (DESIGN.md §8).
