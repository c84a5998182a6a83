//! The access-log format compiler (`mod_log_config.c: parse_log_string`): any LogFormat string
//! compiles or is refused, never a panic.
#![no_main]
use httpd_core::log::compile_format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = compile_format(text);
});
