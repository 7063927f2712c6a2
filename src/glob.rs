//! Glob-style pattern matching with the syntax of Redis's `stringmatchlen`
//! (`*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes), used by KEYS, SCAN MATCH,
//! CONFIG GET and pub/sub patterns.
//!
//! Redis matched recursively, which let hostile patterns exhaust the stack or
//! take exponential time (CVE-2022-36021, CVE-2024-31228). This matcher is
//! iterative: on a mismatch it only ever returns to the most recent `*`, which
//! is enough for glob patterns (a later star can absorb whatever an earlier
//! one would have), so the work is bounded by pattern length times text
//! length, and no recursion is involved.

/// Matches `text` against `pattern`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let mut p = 0;
    let mut t = 0;
    // Where to resume after the most recent star: (pattern index after the star, text index).
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    backtrack = Some((p, t));
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = match_class(pattern, p, text[t], nocase) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if eq(pattern[p + 1], text[t], nocase) {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, text[t], nocase) {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match backtrack {
            Some((star_p, star_t)) => {
                p = star_p;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Matches one byte against the class starting at `pattern[start] == '['`.
/// Returns whether it matched and the index after the class. Like Redis, an
/// unterminated class runs to the end of the pattern.
fn match_class(pattern: &[u8], start: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = i < pattern.len() && pattern[i] == b'^';
    if negate {
        i += 1;
    }
    let mut matched = false;
    loop {
        if i >= pattern.len() {
            // Redis treats a missing ']' as the end of the class.
            break;
        }
        let pc = pattern[i];
        if pc == b']' {
            i += 1;
            break;
        }
        if pc == b'\\' && i + 1 < pattern.len() {
            if pattern[i + 1] == c {
                matched = true;
            }
            i += 2;
            continue;
        }
        if i + 2 < pattern.len() && pattern[i + 1] == b'-' {
            let (mut lo, mut hi) = (pc, pattern[i + 2]);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let (lo, hi, cc) = if nocase {
                (
                    lo.to_ascii_lowercase(),
                    hi.to_ascii_lowercase(),
                    c.to_ascii_lowercase(),
                )
            } else {
                (lo, hi, c)
            };
            if cc >= lo && cc <= hi {
                matched = true;
            }
            i += 3;
            continue;
        }
        if eq(pc, c, nocase) {
            matched = true;
        }
        i += 1;
    }
    Some((matched != negate, i))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn matches_like_redis() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h*llo", b"heeeello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(!glob_match(b"h\\*llo", b"hello", false));
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(!glob_match(b"a*b", b"a", false));
        assert!(glob_match(b"a*b*c", b"axxbyyc", false));
        assert!(!glob_match(b"", b"a", false));
        assert!(glob_match(b"", b"", false));
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let pattern: Vec<u8> = b"*?".repeat(50_000);
        let start = std::time::Instant::now();
        assert!(!glob_match(&pattern, b"short key", false));
        assert!(start.elapsed().as_secs() < 5);
    }
}
