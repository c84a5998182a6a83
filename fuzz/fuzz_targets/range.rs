//! `Range` header parsing (`byterange_filter.c: ap_set_byterange`) against any length: must
//! never panic, and every range it returns must lie inside the file.
#![no_main]
use httpd_core::http::range::{RangeOutcome, byteranges};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let clength = u64::from_le_bytes(data[..8].try_into().unwrap()) % (1 << 40);
    let Ok(header) = std::str::from_utf8(&data[8..]) else { return };
    if let RangeOutcome::Partial(rs) = byteranges(header, clength) {
        assert!(!rs.is_empty());
        for (first, last) in rs {
            assert!(first <= last && last < clength, "{header:?} {clength}: {first}-{last}");
        }
    }
});
