/*
 * Numbers as the C library reads and computes them, the way Redis does.
 *
 * INCRBYFLOAT and HINCRBYFLOAT compute in C's `long double` (80-bit
 * extended precision on x86-64) and print the result with "%.17Lf",
 * trailing zeros removed. Rust has no such type, and the same sum done in
 * 64-bit doubles prints differently (0.1 + 0.2 is "0.3" in Redis,
 * 0.30000000000000004 in f64). Scores, timeouts and SORT weights are read
 * with strtod/strtold, whose exact rules (hex floats, "infinity", underflow,
 * leading spaces) no Rust parser copies. So these few steps are done here
 * with the platform's own libc: on every platform the replies are those of
 * a Redis built there. Written for cachet; src/util/c_numbers.rs is the
 * Rust side and documents the status codes.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: the longest number text it reads or writes. */
#define LD_MAX_CHARS (5 * 1024)

enum {
    LD_BAD_CURRENT = -1,
    LD_BAD_INCREMENT = -2,
    LD_INCREMENT_NOT_FINITE = -3,
    LD_RESULT_NOT_FINITE = -4,
};

/* Redis's string2ld rules: the whole text, no leading space, no NaN, no
 * overflow or underflow to zero. Returns 1 when `text` is a number. */
static int parse_long_double(const unsigned char *text, size_t len, long double *out) {
    char buf[LD_MAX_CHARS];
    char *end;
    long double value;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    value = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE &&
         (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    *out = value;
    return 1;
}

/* Redis's ld2string in LD_STR_HUMAN mode. Returns the length written, or 0
 * when the text does not fit (Redis then stores an empty string). */
static size_t format_human(long double value, char *out, size_t cap) {
    size_t len;
    if (isinf(value)) {
        const char *text = value > 0 ? "inf" : "-inf";
        len = strlen(text);
        if (cap < 5) return 0;
        memcpy(out, text, len);
        return len;
    }
    len = (size_t)snprintf(out, cap, "%.17Lf", value);
    if (len + 1 > cap) return 0;
    if (memchr(out, '.', len) != NULL) {
        while (out[len - 1] == '0') len--;
        if (out[len - 1] == '.') len--;
    }
    if (len == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        len = 1;
    }
    return len;
}

/*
 * current (NULL: the key or field is absent, counted as 0) + increment,
 * written to `out` (at least LD_MAX_CHARS bytes). `check_increment`
 * refuses an infinite increment before adding, as HINCRBYFLOAT does.
 * Returns the result's length (0 when it does not fit) or a negative status.
 */
long cachet_long_double_increment(const unsigned char *current, size_t current_len,
                                  const unsigned char *increment, size_t increment_len,
                                  int check_increment, char *out, size_t cap) {
    long double value = 0, delta;
    if (check_increment) {
        if (!parse_long_double(increment, increment_len, &delta)) return LD_BAD_INCREMENT;
        if (isinf(delta)) return LD_INCREMENT_NOT_FINITE;
        if (current != NULL && !parse_long_double(current, current_len, &value))
            return LD_BAD_CURRENT;
    } else {
        if (current != NULL && !parse_long_double(current, current_len, &value))
            return LD_BAD_CURRENT;
        if (!parse_long_double(increment, increment_len, &delta)) return LD_BAD_INCREMENT;
    }
    value += delta;
    if (isnan(value) || isinf(value)) return LD_RESULT_NOT_FINITE;
    return (long)format_human(value, out, cap);
}

/* Whether `text` is a number HINCRBYFLOAT accepts as an increment:
 * 0 yes, LD_BAD_INCREMENT not a number, LD_INCREMENT_NOT_FINITE infinite. */
int cachet_long_double_check_increment(const unsigned char *text, size_t len) {
    long double value;
    if (!parse_long_double(text, len, &value)) return LD_BAD_INCREMENT;
    if (isinf(value)) return LD_INCREMENT_NOT_FINITE;
    return 0;
}

/* Redis's string2d: the whole text as a double, no leading space, no NaN,
 * no overflow, no underflow to zero. Returns 1 and sets *out when it is. */
int cachet_string2d(const unsigned char *text, size_t len, double *out) {
    char buf[LD_MAX_CHARS];
    char *end;
    double value;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    value = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE &&
         (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    *out = value;
    return 1;
}

/* A blocking command's timeout in seconds, as Redis 7.0's
 * getTimeoutFromObjectOrReply reads it: a long double, times 1000, rounded
 * up, converted to long long (an out-of-range value converts as the
 * platform converts it). Returns 0 and sets *ms, LD_BAD_CURRENT when the
 * text is not a number, or -5 when the milliseconds are negative. */
int cachet_timeout_ms(const unsigned char *text, size_t len, long long *ms) {
    long double seconds;
    long long value;
    if (!parse_long_double(text, len, &seconds)) return LD_BAD_CURRENT;
    value = (long long)ceill(seconds * 1000.0L);
    if (value < 0) return -5;
    *ms = value;
    return 0;
}

/* strtod over the text up to its first NUL, which must consume all of it
 * (so leading spaces pass, and the empty string reads as 0), and not NaN.
 * SORT also refuses a range error (`reject_range`); a score range end does
 * not (overflow reads as +-inf). Returns 1 and sets *out. */
static int parse_whole_strtod(const unsigned char *text, size_t len, int reject_range, double *out) {
    char buf[LD_MAX_CHARS];
    char *end;
    double value;
    if (len >= sizeof(buf)) return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    value = strtod(buf, &end);
    if (end[0] != '\0' || isnan(value) || (reject_range && errno == ERANGE)) return 0;
    *out = value;
    return 1;
}

/* A SORT weight (Redis's sortCommandGeneric rules). */
int cachet_sort_weight(const unsigned char *text, size_t len, double *out) {
    return parse_whole_strtod(text, len, 1, out);
}

/* One end of a score range, after any '(' (Redis's zslParseRange). */
int cachet_range_score(const unsigned char *text, size_t len, double *out) {
    return parse_whole_strtod(text, len, 0, out);
}
