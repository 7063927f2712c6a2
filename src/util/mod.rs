//! Number parsing and formatting with Redis's exact rules (`string2ll`,
//! `string2ld`, `ld2string`), shared by the parser and every command family.
//! Pure functions: no state, no I/O.

pub mod c_numbers;
pub mod signal;

/// The capacity a buffer reused from one command to the next may keep;
/// past it the buffer is freed or shrunk, so that one huge command does
/// not pin its memory for the connection's life.
pub const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// Parses a signed 64-bit integer exactly as Redis's `string2ll`: an optional
/// '-', then digits, no '+', no spaces, no leading zeros, nothing after.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text[0] {
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut value: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if negative {
        if value > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((value as i64).wrapping_neg())
    } else {
        if value > i64::MAX as u64 {
            return None;
        }
        Some(value as i64)
    }
}

/// Parses a double exactly as Redis's `string2d` (libc's strtod over the
/// whole text; see `c_numbers`).
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    c_numbers::parse_double(text)
}

/// Formats a double as C's `"%.17g"` does, which is how Redis 7.0 replies
/// with scores and other doubles (`ZSCORE` of 1.1 is `1.1000000000000001`).
pub fn format_double(value: f64) -> String {
    format_general(value, 17)
}

/// Formats a double as C's `"%.<significant>g"` does (Lua's `tostring` is `%.14g`).
pub fn format_general(value: f64, significant: usize) -> String {
    let significant = significant.clamp(1, 40);
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    if value.is_nan() {
        return "nan".into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `significant` digits, exactly rounded: d.ddd...e<exp>.
    let scientific = format!("{:.*e}", significant - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut text = String::with_capacity(32);
    if negative {
        text.push('-');
    }
    if !(-4..significant as i32).contains(&exponent) {
        // Exponent form: d.ddd (zeros trimmed) e+XX, at least two exponent digits.
        let fraction = digits[1..].trim_end_matches('0');
        text.push_str(&digits[..1]);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        text.push('e');
        text.push(if exponent < 0 { '-' } else { '+' });
        text.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent < 0 {
        text.push_str("0.");
        for _ in 0..(-exponent - 1) {
            text.push('0');
        }
        text.push_str(digits.trim_end_matches('0'));
    } else {
        let point = exponent as usize + 1;
        let (whole, fraction) = digits.split_at(point);
        text.push_str(whole);
        let fraction = fraction.trim_end_matches('0');
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
    }
    text
}

/// Formats a double as Redis's `d2string` does (how a small sorted set
/// stores its scores, which ZSCAN shows): an integer when the value is one
/// and within +-2^62, `-0` for negative zero, `%.17g` otherwise.
pub fn format_d2string(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let limit = (i64::MAX / 2) as f64;
    if value.is_finite() && (-limit..=limit).contains(&value) && value.fract() == 0.0 {
        return (value as i64).to_string();
    }
    format_double(value)
}

/// Formats a double as C's `"%f"` with trailing zeros trimmed (Redis's
/// `trimDoubleString`): the latency percentiles of CONFIG GET and INFO.
pub fn format_trimmed_fixed(value: f64) -> String {
    let mut text = format!("{:.6}", value);
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    text
}

/// Lower-cases ASCII into a fixed stack buffer for command lookups; None when too long.
pub fn ascii_lower<'b>(text: &[u8], buffer: &'b mut [u8; 32]) -> Option<&'b [u8]> {
    if text.len() > buffer.len() {
        return None;
    }
    for (dst, src) in buffer.iter_mut().zip(text) {
        *dst = src.to_ascii_lowercase();
    }
    Some(&buffer[..text.len()])
}

pub fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Bytes as a human figure, the way INFO's `*_human` fields show them.
pub fn bytes_human(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_matches_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b""), None);
    }

    #[test]
    fn doubles_print_like_percent_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(2.0), "2");
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(-0.5), "-0.5");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(12345678901234567.0), "12345678901234568");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(1e300), "1.0000000000000001e+300");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(-0.0), "-0");
    }

    #[test]
    fn small_set_scores_print_like_d2string() {
        assert_eq!(format_d2string(1e18), "1000000000000000000");
        assert_eq!(format_d2string(1e19), "1e+19");
        assert_eq!(format_d2string(-0.0), "-0");
        assert_eq!(format_d2string(2.5), "2.5");
        assert_eq!(format_d2string(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn percentiles_print_trimmed() {
        assert_eq!(format_trimmed_fixed(50.0), "50");
        assert_eq!(format_trimmed_fixed(99.9), "99.9");
    }
}
