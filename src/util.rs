//! Number parsing and formatting with Redis's exact rules (`string2ll`,
//! `string2ld`, `ld2string`), shared by the parser and every command family.
//! Pure functions: no state, no I/O.

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

/// Parses a float the way Redis's `string2ld`/`strtold` accept it: no leading
/// or trailing spaces, not empty, "inf"/"-inf" allowed, NaN refused.
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (negative, unsigned) = match lower.as_bytes()[0] {
        b'-' => (true, &lower[1..]),
        b'+' => (false, &lower[1..]),
        _ => (false, lower.as_str()),
    };
    let magnitude = match unsigned {
        "inf" | "infinity" => f64::INFINITY,
        _ if unsigned.contains("nan") => return None,
        _ if unsigned.starts_with("0x") => parse_hex_float(&unsigned[2..])?,
        _ => {
            if unsigned.starts_with(['+', '-']) {
                return None;
            }
            let value: f64 = unsigned.parse().ok()?;
            // strtold reports overflow (ERANGE): Redis then refuses the number.
            if value.is_infinite() {
                return None;
            }
            value
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Hexadecimal floats as strtold reads them: digits, an optional fraction,
/// and an optional binary exponent (`10`, `1.8`, `1.8p3`).
fn parse_hex_float(text: &str) -> Option<f64> {
    let (mantissa, exponent) = match text.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    value.is_finite().then_some(value)
}

/// Formats a float for INCRBYFLOAT's reply and stored value: fixed notation
/// with up to 17 decimals, trailing zeros trimmed (Redis's `ld2string` in
/// humanfriendly mode).
pub fn format_float_human(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let mut text = format!("{:.17}", value);
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    if text == "-0" {
        text = "0".into();
    }
    // `{:.17}` shows binary noise (0.1 -> 0.10000000000000001); Redis uses long
    // double and prints 17 significant digits. Prefer the shortest text that
    // reads back to the same value when it is no longer than Redis's.
    let shortest = format!("{}", value);
    if !shortest.contains('e')
        && shortest.parse::<f64>().ok() == Some(value)
        && shortest.len() <= text.len()
    {
        return if shortest == "-0" {
            "0".into()
        } else {
            shortest
        };
    }
    text
}

/// Formats a double the way Redis's `%.17g` replies do (ZSCORE and friends):
/// the shortest text that reads back as the same value.
pub fn format_double(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if value == value.trunc() && value.abs() < 1e17 {
        return format!("{}", value as i64);
    }
    let text = format!("{}", value);
    if text.len() > 24 {
        return format!("{:e}", value);
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
    fn float_formatting_is_human() {
        assert_eq!(format_float_human(10.5), "10.5");
        assert_eq!(format_float_human(3.0), "3");
        assert_eq!(format_float_human(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float_human(-0.0), "0");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(2.0), "2");
    }
}
