//! `run` end to end: the real binary against a simulated tenant started by the test, with a
//! hermetic environment (only the simulator's managed-identity endpoint and Graph URL).

mod input;
mod notify;
mod output;
mod preflight;
mod replace;
