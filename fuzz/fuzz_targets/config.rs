//! A whole configuration file through `config::load_text` (tokenizer, sections, every
//! directive's parser, the two-stage checks) for the event MPM: errors are fine, panics are not.
#![no_main]
use httpd_core::config::{ConfigOptions, MpmIdent, load_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Include and friends would read the machine's files: keep the fuzzer inside the input.
    let lower = text.to_ascii_lowercase();
    if lower.contains("include") || lower.contains("typesconfig") || lower.contains("serverroot") {
        return;
    }
    let opts = ConfigOptions {
        server_root: Some("/nonexistent-mpm-lab-fuzz".into()),
        ..ConfigOptions::default()
    };
    let _ = load_text("fuzz.conf", text, &opts, &MpmIdent::EVENT);
});
