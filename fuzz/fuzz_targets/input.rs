//! The input stage over arbitrary bytes: the invocation and the customization come from one
//! input, split at the first NUL byte (no NUL: invocation only). Whatever the bytes, `prepare`
//! returns Ok or Err; a panic, an abort, a hang or a blow-up of memory is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    // A fixed clock keeps runs reproducible (StartDateTime is checked against it).
    let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("a valid instant");
    let (invocation, customization) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let _ = tap_runbook::input::prepare(invocation, customization, now);
});
