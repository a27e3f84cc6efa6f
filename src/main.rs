//! The `tap-runbook` binary: everything lives in the library; this maps it to an exit code.

fn main() {
    std::process::exit(tap_runbook::app::main());
}
