//! mod_status's `?auto` page parser (`StatusAuto::parse`), which the harness also runs on real
//! Apache's pages: any text must parse without a panic.
#![no_main]
use httpd_core::status::StatusAuto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = StatusAuto::parse(text);
});
