//! The C formats mod_status prints with (`%g`, `show_time`, `format_byte_out`, the
//! default time format), so our numbers read exactly as Apache's.

use std::time::SystemTime;

/// Apache's `show_time`: " N day(s) N hour(s) N minute(s) N second(s)", zero parts omitted.
pub fn show_time(secs: u64) -> String {
    let parts = [
        (secs / 86_400, "day"),
        (secs / 3600 % 24, "hour"),
        (secs / 60 % 60, "minute"),
        (secs % 60, "second"),
    ];
    let mut s = String::new();
    for (n, unit) in parts {
        if n != 0 {
            s.push_str(&format!(" {n} {unit}{}", if n == 1 { "" } else { "s" }));
        }
    }
    s
}

/// Apache's `DEFAULT_TIME_FORMAT` in local time: `%A, %d-%b-%Y %H:%M:%S %Z`.
pub fn format_time(t: SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned(crate::log::local_tz())
        .strftime("%A, %d-%b-%Y %H:%M:%S %Z")
        .to_string()
}

/// C's `printf("%g")`: 6 significant digits, trailing zeros removed, exponent form when the
/// exponent is < −4 or ≥ 6 (Apache prints the `?auto` ratios with it).
pub fn fmt_g(x: f64) -> String {
    fmt_g_prec(x, 6)
}

/// C's `%.Pg`.
pub fn fmt_g_prec(x: f64, precision: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let p = precision.max(1);
    // The exponent after rounding to P significant digits decides the form.
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Apache's `format_kbyte_out` (used for "Total Traffic"): "N kB", "N.N MB" or "N.N GB".
pub fn format_kbytes(kbytes: u64) -> String {
    const KB: u64 = 1024;
    if kbytes < KB {
        format!("{kbytes} kB")
    } else if kbytes < KB * KB {
        format!("{:.1} MB", kbytes as f64 / KB as f64)
    } else {
        format!("{:.1} GB", kbytes as f64 / (KB * KB) as f64)
    }
}

/// Apache's `format_byte_out`: "N B", "N.N kB", "N.N MB" or "N.N GB".
pub fn format_bytes(bytes: f64) -> String {
    const KB: f64 = 1024.0;
    const MB: f64 = KB * KB;
    const GB: f64 = MB * KB;
    if bytes < 5.0 * KB {
        format!("{} B", bytes as i64)
    } else if bytes < MB / 2.0 {
        format!("{:.1} kB", bytes / KB)
    } else if bytes < GB / 2.0 {
        format!("{:.1} MB", bytes / MB)
    } else {
        format!("{:.1} GB", bytes / GB)
    }
}
