//! The resumable request parser: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
//! and inline commands (`GET k\r\n`, what telnet and `redis-benchmark`'s
//! PING_INLINE send).
//!
//! The parser never copies a multibulk argument: it records each argument as a
//! span of the connection's input buffer. It is resumable: when a read ends in
//! the middle of a command it remembers how far it got (how many arguments, the
//! pending bulk length), and the next call continues from there instead of
//! starting the frame again. Between reads the connection drops the bytes that
//! are done with (`consumed`), and the parser shifts its spans accordingly.
//!
//! Limits follow Redis 7.0's `networking.c`: a header line (`*N`, `$N`, an
//! inline command) with no end within 64 KB is an error, as is a bulk longer
//! than `proto-max-bulk-len`; before authentication a client may send at most
//! 10 arguments of at most 16 KB each. The parser never reserves room for more
//! than 1024 argument spans up front, whatever a header claims.

use crate::errors::ProtocolError;

/// Longest header or inline line Redis accepts before it gives up (`PROTO_INLINE_MAX_SIZE`).
pub const MAX_HEADER_LINE: usize = 64 * 1024;
/// Arguments an unauthenticated client may send in one command.
pub const UNAUTH_MAX_ARGS: i64 = 10;
/// Bulk length an unauthenticated client may send.
pub const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Spans reserved up front, whatever the multibulk header claims.
const MAX_PREALLOCATED_ARGS: usize = 1024;

/// A byte range of the buffer the arguments live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// The arguments of one command, as slices of some buffer. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    base: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Args<'a> {
    pub fn new(base: &'a [u8], spans: &'a [Span]) -> Self {
        Args { base, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`, or an empty slice past the end (the dispatcher checks arity first).
    pub fn get(&self, i: usize) -> &'a [u8] {
        match self.spans.get(i) {
            Some(span) => &self.base[span.start..span.end],
            None => &[],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.spans.iter().map(|s| &self.base[s.start..s.end])
    }

    /// Arguments from `i` on.
    pub fn from(&self, i: usize) -> Args<'a> {
        Args {
            base: self.base,
            spans: &self.spans[i.min(self.spans.len())..],
        }
    }

    /// Arguments `from..to` (clamped to what there is).
    pub fn slice(&self, from: usize, to: usize) -> Args<'a> {
        let to = to.min(self.spans.len());
        Args {
            base: self.base,
            spans: &self.spans[from.min(to)..to],
        }
    }

    /// Argument `i`, if there is one.
    pub fn get_opt(&self, i: usize) -> Option<&'a [u8]> {
        self.spans
            .get(i)
            .map(|span| &self.base[span.start..span.end])
    }

    pub fn to_owned(&self) -> OwnedArgs {
        let mut owned = OwnedArgs::default();
        owned.copy_from(*self);
        owned
    }
}

impl std::ops::Index<usize> for Args<'_> {
    type Output = [u8];
    fn index(&self, i: usize) -> &[u8] {
        self.get(i)
    }
}

/// Arguments that outlive the input buffer (queued in MULTI, built by the server).
#[derive(Debug, Clone, Default)]
pub struct OwnedArgs {
    data: Vec<u8>,
    spans: Vec<Span>,
}

impl OwnedArgs {
    pub fn from_slices<'s>(items: impl IntoIterator<Item = &'s [u8]>) -> Self {
        let mut owned = OwnedArgs::default();
        for item in items {
            owned.push(item);
        }
        owned
    }

    pub fn push(&mut self, arg: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(arg);
        self.spans.push(Span {
            start,
            end: self.data.len(),
        });
    }

    /// Bytes the arguments' buffer can hold without growing.
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Whether its buffers are small enough to keep for the next command
    /// (not so after an EVAL's long body).
    pub fn worth_keeping(&self) -> bool {
        self.capacity() <= crate::util::KEEP_BUFFER_BYTES
    }

    /// Replaces its arguments with a copy of `args`, growing each buffer
    /// at most once (not at all when it already has the room).
    pub fn copy_from(&mut self, args: Args) {
        self.clear();
        let bytes: usize = args.spans.iter().map(|span| span.end - span.start).sum();
        self.data.reserve(bytes);
        self.spans.reserve(args.len());
        for arg in args.iter() {
            self.push(arg);
        }
    }

    /// Empties it, keeping its buffers for the next command.
    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
    }

    pub fn args(&self) -> Args<'_> {
        Args::new(&self.data, &self.spans)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between commands.
    Idle,
    /// Inside a multibulk command: arguments still to read, and the length of
    /// the bulk whose `$N` line has been read but whose data has not.
    Multibulk {
        remaining: usize,
        pending_bulk: Option<usize>,
    },
}

/// What `RequestParser::next` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command; its arguments are `RequestParser::args(buffer)`.
    Command,
    /// The buffer ends inside a command (or is empty): read more.
    Incomplete,
}

/// Limits the parser enforces, taken from the configuration for each batch.
#[derive(Debug, Clone, Copy)]
pub struct ParserLimits {
    pub max_bulk_len: i64,
    pub authenticated: bool,
}

impl Default for ParserLimits {
    fn default() -> Self {
        ParserLimits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

#[derive(Debug)]
pub struct RequestParser {
    state: State,
    /// Offset of the next byte not yet looked at.
    pos: usize,
    /// Offset where the command being parsed began.
    command_start: usize,
    spans: Vec<Span>,
    /// Decoded arguments of an inline command (quotes and escapes resolved).
    inline_data: Vec<u8>,
    inline: bool,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    pub fn new() -> Self {
        RequestParser {
            state: State::Idle,
            pos: 0,
            command_start: 0,
            spans: Vec::with_capacity(8),
            inline_data: Vec::new(),
            inline: false,
        }
    }

    /// The arguments of the command `next` just returned.
    pub fn args<'a>(&'a self, buffer: &'a [u8]) -> Args<'a> {
        if self.inline {
            Args::new(&self.inline_data, &self.spans)
        } else {
            Args::new(buffer, &self.spans)
        }
    }

    /// True while a command has been started but not finished.
    pub fn in_command(&self) -> bool {
        self.state != State::Idle
    }

    /// Bytes of the buffer that belong to the unfinished command (for the query buffer limit).
    pub fn pending_bytes(&self, buffer_len: usize) -> usize {
        buffer_len.saturating_sub(self.command_start)
    }

    /// How many more bytes the buffer must hold before the pending bulk is complete.
    pub fn bytes_wanted(&self, buffer_len: usize) -> usize {
        match self.state {
            State::Multibulk {
                pending_bulk: Some(len),
                ..
            } => (self.pos + len + 2).saturating_sub(buffer_len),
            _ => 0,
        }
    }

    /// Forget the bytes before the command in progress: the caller drops that
    /// many bytes from the front of its buffer, and the parser shifts its
    /// offsets to match. Returns the count.
    pub fn consume(&mut self) -> usize {
        if self.state == State::Idle {
            let done = self.pos;
            self.pos = 0;
            self.command_start = 0;
            self.spans.clear();
            return done;
        }
        let done = self.command_start;
        self.pos -= done;
        self.command_start = 0;
        for span in &mut self.spans {
            span.start -= done;
            span.end -= done;
        }
        done
    }

    /// Parse the next command from `buffer` (which starts where the last
    /// `consume` left it).
    pub fn next(&mut self, buffer: &[u8], limits: ParserLimits) -> Result<Parsed, ProtocolError> {
        loop {
            match self.state {
                State::Idle => {
                    if self.pos >= buffer.len() {
                        return Ok(Parsed::Incomplete);
                    }
                    self.command_start = self.pos;
                    self.spans.clear();
                    self.inline = false;
                    if buffer[self.pos] == b'*' {
                        if !self.start_multibulk(buffer, limits)? {
                            return Ok(Parsed::Incomplete);
                        }
                    } else {
                        match self.parse_inline(buffer)? {
                            None => return Ok(Parsed::Incomplete),
                            Some(true) => return Ok(Parsed::Command),
                            Some(false) => continue,
                        }
                    }
                }
                State::Multibulk {
                    remaining: 0,
                    pending_bulk: None,
                } => {
                    self.state = State::Idle;
                    return Ok(Parsed::Command);
                }
                State::Multibulk {
                    remaining,
                    pending_bulk: None,
                } => {
                    let Some(len) = self.read_bulk_header(buffer, limits)? else {
                        return Ok(Parsed::Incomplete);
                    };
                    self.state = State::Multibulk {
                        remaining,
                        pending_bulk: Some(len),
                    };
                }
                State::Multibulk {
                    remaining,
                    pending_bulk: Some(len),
                } => {
                    if buffer.len() < self.pos + len + 2 {
                        return Ok(Parsed::Incomplete);
                    }
                    self.spans.push(Span {
                        start: self.pos,
                        end: self.pos + len,
                    });
                    // Like Redis, the two bytes after the data are skipped unchecked.
                    self.pos += len + 2;
                    self.state = State::Multibulk {
                        remaining: remaining - 1,
                        pending_bulk: None,
                    };
                }
            }
        }
    }

    /// Reads `*N\r\n`. Returns false when the line is not complete yet.
    fn start_multibulk(
        &mut self,
        buffer: &[u8],
        limits: ParserLimits,
    ) -> Result<bool, ProtocolError> {
        let Some((value, next)) =
            read_header_line(buffer, self.pos, ProtocolError::TooBigMbulkCount)?
        else {
            return Ok(false);
        };
        let count = parse_header_int(value).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > i32::MAX as i64 {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if !limits.authenticated && count > UNAUTH_MAX_ARGS {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.pos = next;
        if count <= 0 {
            // An empty multibulk is skipped, as Redis does.
            self.command_start = self.pos;
            return Ok(true);
        }
        let count = count as usize;
        self.spans.reserve(count.min(MAX_PREALLOCATED_ARGS));
        self.state = State::Multibulk {
            remaining: count,
            pending_bulk: None,
        };
        Ok(true)
    }

    /// Reads `$N\r\n`. Returns None when the line is not complete yet.
    fn read_bulk_header(
        &mut self,
        buffer: &[u8],
        limits: ParserLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        if self.pos >= buffer.len() {
            return Ok(None);
        }
        let Some((value, next)) =
            read_header_line(buffer, self.pos, ProtocolError::TooBigBulkCount)?
        else {
            return Ok(None);
        };
        if buffer[self.pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buffer[self.pos]));
        }
        let len = parse_header_int(value).ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len > limits.max_bulk_len {
            return Err(ProtocolError::InvalidBulkLength);
        }
        if !limits.authenticated && len > UNAUTH_MAX_BULK {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        self.pos = next;
        Ok(Some(len as usize))
    }

    /// Reads one inline line. None: incomplete; Some(false): an empty line, skipped.
    fn parse_inline(&mut self, buffer: &[u8]) -> Result<Option<bool>, ProtocolError> {
        let rest = &buffer[self.pos..];
        let Some(newline) = find_before_nul(b'\n', rest) else {
            if rest.len() > MAX_HEADER_LINE {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(None);
        };
        let mut line = &rest[..newline];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        self.inline_data.clear();
        self.spans.clear();
        split_inline_args(line, &mut self.inline_data, &mut self.spans)?;
        self.pos += newline + 1;
        if self.spans.is_empty() {
            self.command_start = self.pos;
            return Ok(Some(false));
        }
        self.inline = true;
        Ok(Some(true))
    }
}

/// Finds the `\r\n`-terminated line that starts at `start` (its first byte is
/// the type marker). Returns the text between marker and `\r`, and the offset
/// after `\n`; None when the line is not all there yet.
fn read_header_line(
    buffer: &[u8],
    start: usize,
    too_big: ProtocolError,
) -> Result<Option<(&[u8], usize)>, ProtocolError> {
    let rest = &buffer[start..];
    match find_before_nul(b'\r', rest) {
        None => {
            if rest.len() > MAX_HEADER_LINE {
                return Err(too_big);
            }
            Ok(None)
        }
        Some(cr) => {
            // The buffer must also hold the '\n' after the '\r'.
            if cr + 1 >= rest.len() {
                return Ok(None);
            }
            // A line that is only "\r" has no marker byte: the caller reports what it found.
            Ok(Some((&rest[cr.min(1)..cr], start + cr + 2)))
        }
    }
}

/// Position of `needle`, searching the way C's `strchr` does in Redis: a NUL
/// byte ends the search, so a header or inline line with a NUL before its
/// end is treated as not complete yet (and hits the 64 KB limit if it grows).
fn find_before_nul(needle: u8, haystack: &[u8]) -> Option<usize> {
    let at = haystack.iter().position(|&b| b == needle || b == 0)?;
    (haystack[at] == needle).then_some(at)
}

/// The index after the closing quote at `i`, which must be followed by a
/// space or the end of the line.
fn after_closing_quote(line: &[u8], i: usize) -> Result<usize, ProtocolError> {
    if i + 1 < line.len() && !is_c_space(line[i + 1]) {
        return Err(ProtocolError::UnbalancedQuotes);
    }
    Ok(i + 1)
}

/// C's `isspace`: space, \t, \n, \v, \f, \r.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses a header count the way Redis's `string2ll` does: optional '-',
/// decimal digits, no leading '+', no spaces, no leading zeros (except "0").
fn parse_header_int(text: &[u8]) -> Option<i64> {
    crate::util::parse_i64(text)
}

/// `split_inline_args` into owned words; None for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut data = Vec::new();
    let mut spans = Vec::new();
    split_inline_args(line, &mut data, &mut spans).ok()?;
    Some(
        spans
            .iter()
            .map(|s| data[s.start..s.end].to_vec())
            .collect(),
    )
}

/// Splits an inline command line into arguments with the quoting rules of
/// Redis's `sdssplitargs`: double quotes with `\n \r \t \b \a \\ \" \xHH`
/// escapes, single quotes with only `\'`, and a closing quote that must be
/// followed by a space or the end of the line.
pub fn split_inline_args(
    line: &[u8],
    data: &mut Vec<u8>,
    spans: &mut Vec<Span>,
) -> Result<(), ProtocolError> {
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        // Like sdssplitargs on a C string, a NUL byte ends the line.
        if i >= n || line[i] == 0 {
            return Ok(());
        }
        let start = data.len();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    data.push(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    data.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    i = after_closing_quote(line, i)?;
                    break;
                } else {
                    data.push(c);
                }
                i += 1;
            } else if in_single {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    data.push(b'\'');
                } else if c == b'\'' {
                    i = after_closing_quote(line, i)?;
                    break;
                } else {
                    data.push(c);
                }
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => data.push(c),
                }
                i += 1;
            }
        }
        spans.push(Span {
            start,
            end: data.len(),
        });
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut parser = RequestParser::new();
        let mut out = Vec::new();
        while parser.next(input, ParserLimits::default())? == Parsed::Command {
            out.push(parser.args(input).iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    #[test]
    fn parses_multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\r\n").unwrap();
        assert_eq!(cmds[0], vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
        assert_eq!(
            cmds[2],
            vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()]
        );
    }

    #[test]
    fn resumes_across_every_split_point() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        for cut in 0..input.len() {
            let mut parser = RequestParser::new();
            let mut buffer = input[..cut].to_vec();
            assert_eq!(
                parser.next(&buffer, ParserLimits::default()).unwrap(),
                Parsed::Incomplete
            );
            let done = parser.consume();
            buffer.drain(..done);
            buffer.extend_from_slice(&input[cut..]);
            assert_eq!(
                parser.next(&buffer, ParserLimits::default()).unwrap(),
                Parsed::Command
            );
            let args: Vec<&[u8]> = parser.args(&buffer).iter().collect();
            assert_eq!(args, vec![&b"SET"[..], b"key", b"value"]);
        }
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            parse_all(b"*abc\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\nfoo\r\n"),
            Err(ProtocolError::ExpectedDollar(b'f'))
        );
        assert_eq!(
            parse_all(b"set \"a\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_all(b"*3000000000\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
    }

    #[test]
    fn huge_multibulk_count_reserves_little() {
        let mut parser = RequestParser::new();
        assert_eq!(
            parser
                .next(b"*1000000000\r\n", ParserLimits::default())
                .unwrap(),
            Parsed::Incomplete
        );
        assert!(parser.spans.capacity() <= MAX_PREALLOCATED_ARGS);
    }
}
