//! Numbers read and computed by the C library, as Redis does it:
//! INCRBYFLOAT and HINCRBYFLOAT arithmetic in C's `long double` (so the sums
//! and their text match Redis's: `0.1 + 0.2` is `0.3`), `string2d` for
//! scores and other doubles, blocking timeouts, and SORT weights. The C
//! lives in `csrc/numbers.c`; this module is its safe face. It knows
//! numbers only: no keys, no replies.

use std::os::raw::{c_double, c_int, c_long, c_longlong};

/// The longest number text Redis reads or writes (MAX_LONG_DOUBLE_CHARS).
const MAX_CHARS: usize = 5 * 1024;

extern "C" {
    fn cachet_long_double_increment(
        current: *const u8,
        current_len: usize,
        increment: *const u8,
        increment_len: usize,
        check_increment: c_int,
        out: *mut u8,
        cap: usize,
    ) -> c_long;
    fn cachet_long_double_check_increment(text: *const u8, len: usize) -> c_int;
    fn cachet_string2d(text: *const u8, len: usize, out: *mut c_double) -> c_int;
    fn cachet_timeout_ms(text: *const u8, len: usize, ms: *mut c_longlong) -> c_int;
    fn cachet_sort_weight(text: *const u8, len: usize, out: *mut c_double) -> c_int;
    fn cachet_range_score(text: *const u8, len: usize, out: *mut c_double) -> c_int;
}

/// One end of a ZRANGEBYSCORE-style range (without its `(`), read as
/// Redis's `zslParseRange` reads it: strtod over the whole text (leading
/// spaces allowed, the empty string is 0, overflow is infinity), not NaN.
pub fn range_score(text: &[u8]) -> Option<f64> {
    let mut value: c_double = 0.0;
    // SAFETY: the pointer and length describe `text`; `value` is writable.
    let ok = unsafe { cachet_range_score(text.as_ptr(), text.len(), &mut value) };
    (ok == 1).then_some(value)
}

/// Redis's `string2d`: the whole text as a double (hex floats and
/// `inf`/`infinity` included), no leading space, no NaN, nothing that
/// overflows or underflows to zero.
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let mut value: c_double = 0.0;
    // SAFETY: the pointer and length describe `text`; `value` is writable.
    let ok = unsafe { cachet_string2d(text.as_ptr(), text.len(), &mut value) };
    (ok == 1).then_some(value)
}

/// Why a blocking timeout was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutError {
    NotANumber,
    Negative,
}

/// A blocking command's timeout in seconds, read as Redis 7.0 reads it:
/// milliseconds, rounded up (0 means block forever).
pub fn timeout_ms(text: &[u8]) -> Result<u64, TimeoutError> {
    let mut ms: c_longlong = 0;
    // SAFETY: the pointer and length describe `text`; `ms` is writable.
    match unsafe { cachet_timeout_ms(text.as_ptr(), text.len(), &mut ms) } {
        0 => Ok(ms as u64),
        -5 => Err(TimeoutError::Negative),
        _ => Err(TimeoutError::NotANumber),
    }
}

/// A SORT weight: strtod over the whole text (leading spaces allowed, the
/// empty string is 0), as Redis's SORT reads it.
pub fn sort_weight(text: &[u8]) -> Option<f64> {
    let mut value: c_double = 0.0;
    // SAFETY: the pointer and length describe `text`; `value` is writable.
    let ok = unsafe { cachet_sort_weight(text.as_ptr(), text.len(), &mut value) };
    (ok == 1).then_some(value)
}

/// Why an increment could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrementError {
    /// The stored value is not a number.
    BadCurrent,
    /// The increment is not a number.
    BadIncrement,
    /// The increment is infinite (HINCRBYFLOAT refuses it up front).
    IncrementNotFinite,
    /// The sum is NaN or infinite.
    ResultNotFinite,
}

fn status(code: c_long) -> Result<usize, IncrementError> {
    match code {
        -1 => Err(IncrementError::BadCurrent),
        -2 => Err(IncrementError::BadIncrement),
        -3 => Err(IncrementError::IncrementNotFinite),
        n if n < 0 => Err(IncrementError::ResultNotFinite),
        n => Ok(n as usize),
    }
}

/// `current` (None: absent, i.e. 0) plus `increment`, as Redis's text.
/// With `check_increment` (HINCRBYFLOAT) the increment is judged first and
/// an infinite one refused; without (INCRBYFLOAT) the stored value is
/// judged first. A result too long to print is empty, as in Redis.
pub fn increment(
    current: Option<&[u8]>,
    increment: &[u8],
    check_increment: bool,
) -> Result<Vec<u8>, IncrementError> {
    let mut out = vec![0u8; MAX_CHARS];
    let (current_ptr, current_len) = match current {
        Some(text) => (text.as_ptr(), text.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer comes with its length and outlives the call;
    // `out` has `MAX_CHARS` writable bytes and the C side writes at most `cap`.
    let code = unsafe {
        cachet_long_double_increment(
            current_ptr,
            current_len,
            increment.as_ptr(),
            increment.len(),
            c_int::from(check_increment),
            out.as_mut_ptr(),
            out.len(),
        )
    };
    let len = status(code)?;
    out.truncate(len);
    Ok(out)
}

/// Whether HINCRBYFLOAT accepts `text` as its increment.
pub fn check_increment(text: &[u8]) -> Result<(), IncrementError> {
    // SAFETY: the pointer and length describe `text`, which outlives the call.
    let code = unsafe { cachet_long_double_check_increment(text.as_ptr(), text.len()) };
    status(c_long::from(code)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(current: &str, delta: &str) -> Result<String, IncrementError> {
        increment(Some(current.as_bytes()), delta.as_bytes(), false)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn sums_like_redis() {
        assert_eq!(add("0.1", "0.2").as_deref(), Ok("0.3"));
        assert_eq!(add("10.5", "0.1").as_deref(), Ok("10.6"));
        assert_eq!(add("5.0e3", "2.0e2").as_deref(), Ok("5200"));
        assert_eq!(add("-1", "1").as_deref(), Ok("0"));
        assert_eq!(add("1", "0x10").as_deref(), Ok("17"));
    }

    #[test]
    fn refuses_what_redis_refuses() {
        assert_eq!(add("abc", "1"), Err(IncrementError::BadCurrent));
        assert_eq!(add("1", " 1"), Err(IncrementError::BadIncrement));
        assert_eq!(add("1", "nan"), Err(IncrementError::BadIncrement));
        assert_eq!(add("1", "inf"), Err(IncrementError::ResultNotFinite));
        assert_eq!(add("1", "1e99999"), Err(IncrementError::BadIncrement));
        assert_eq!(
            check_increment(b"inf"),
            Err(IncrementError::IncrementNotFinite)
        );
        assert_eq!(check_increment(b"1.5"), Ok(()));
    }

    #[test]
    fn doubles_read_like_string2d() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"0x10"), Some(16.0));
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1 "), None);
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b"1e400"), None);
        assert_eq!(parse_double(b"1e-400"), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(sort_weight(b""), Some(0.0));
        assert_eq!(sort_weight(b" 2"), Some(2.0));
        assert_eq!(sort_weight(b"2x"), None);
        assert_eq!(timeout_ms(b"0.0001"), Ok(1));
        assert_eq!(timeout_ms(b"1.5"), Ok(1500));
        assert_eq!(timeout_ms(b"-1"), Err(TimeoutError::Negative));
        assert_eq!(timeout_ms(b"x"), Err(TimeoutError::NotANumber));
    }

    #[test]
    fn absent_counts_as_zero() {
        assert_eq!(increment(None, b"2.5", false), Ok(b"2.5".to_vec()));
    }
}
