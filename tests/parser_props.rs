//! Property tests of the request parser (`cachet::protocol::RequestParser`).
//!
//! The parser is driven the way `server/connection.rs` drives it: bytes
//! arrive in chunks, every complete command in the buffer is parsed (and its
//! arguments read before anything moves), then `consume()` tells how many
//! bytes of the front of the buffer are done with and the caller drains them.
//!
//! Properties:
//! (a) commands encoded as RESP multibulk (random binary arguments, `\r\n`
//!     inside bulks, no-op `*0` / `*-1` frames between them) parse back to
//!     exactly those arguments whatever the chunking; the same for inline
//!     commands written with `"\xHH"` escapes and for plain inline words;
//! (b) on valid frames the parser agrees with `redis-protocol` 6's RESP2
//!     decoder, used as the oracle (frames produced by its encoder);
//! (c) arbitrary bytes never panic, never make the parser allocate more than
//!     a small multiple of the input, and give the same commands and the same
//!     error however they are chunked.
//!
//! A capping global allocator records the largest single allocation made on
//! the test's thread while the parser runs, and refuses any allocation over
//! `HARD_CAP` so that a runaway parser aborts the test binary at once instead
//! of taking the machine's memory (see `arbitrary_bytes_*` below).

use cachet::errors::ProtocolError;
use cachet::protocol::{Parsed, ParserLimits, RequestParser};
use proptest::prelude::*;
use redis_protocol::resp2::decode::decode as oracle_decode;
use redis_protocol::resp2::encode::encode as oracle_encode;
use redis_protocol::resp2::types::{OwnedFrame, Resp2Frame};

// ---------------------------------------------------------------------------
// Allocation tracking.

mod support;

#[global_allocator]
static ALLOCATOR: support::CappedAlloc = support::CappedAlloc;

fn reset_largest() {
    support::reset_thread_largest();
}

fn largest() -> usize {
    support::thread_largest()
}

// ---------------------------------------------------------------------------
// Driving the parser like the connection loop does.

type Command = Vec<Vec<u8>>;

#[derive(Debug, PartialEq)]
struct Run {
    commands: Vec<Command>,
    error: Option<ProtocolError>,
    /// Bytes still buffered (an unfinished command) when the input ran out.
    leftover: usize,
    /// Whether the parser was in the middle of a command at the end.
    in_command: bool,
}

/// Feeds `input` in chunks whose sizes cycle through `chunks` (each >= 1),
/// parsing everything complete after every chunk and draining `consume()`.
/// Stops at the first protocol error, as the server closes the connection then.
fn run_chunked(input: &[u8], chunks: &[usize], limits: ParserLimits) -> Run {
    assert!(!chunks.is_empty() && chunks.iter().all(|&c| c > 0));
    let mut parser = RequestParser::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut commands = Vec::new();
    let mut fed = 0;
    let mut round = 0;
    while fed < input.len() {
        let take = chunks[round % chunks.len()].min(input.len() - fed);
        round += 1;
        buffer.extend_from_slice(&input[fed..fed + take]);
        fed += take;
        loop {
            match parser.next(&buffer, limits) {
                Ok(Parsed::Command) => {
                    let args = parser.args(&buffer);
                    assert!(!args.is_empty(), "a command with no arguments");
                    commands.push(args.iter().map(|a| a.to_vec()).collect());
                }
                Ok(Parsed::Incomplete) => break,
                Err(error) => {
                    return Run {
                        commands,
                        error: Some(error),
                        leftover: buffer.len(),
                        in_command: parser.in_command(),
                    }
                }
            }
        }
        let done = parser.consume();
        assert!(
            done <= buffer.len(),
            "consume() = {done} exceeds the buffer ({} bytes)",
            buffer.len()
        );
        buffer.drain(..done);
        assert!(parser.pending_bytes(buffer.len()) <= buffer.len());
        // Must not panic or overflow.
        let _ = parser.bytes_wanted(buffer.len());
    }
    Run {
        commands,
        error: None,
        leftover: buffer.len(),
        in_command: parser.in_command(),
    }
}

fn run_whole(input: &[u8], limits: ParserLimits) -> Run {
    run_chunked(input, &[input.len().max(1)], limits)
}

fn encode_multibulk(args: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// `"\xHH\xHH..."` for every byte: the inline form that can carry any bytes.
fn encode_inline_hex(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for b in arg {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
}

// ---------------------------------------------------------------------------
// Strategies.

/// Bytes biased towards the ones that matter to the framing.
fn framing_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => any::<u8>(),
        2 => Just(b'\r'),
        2 => Just(b'\n'),
        1 => Just(b'*'),
        1 => Just(b'$'),
        1 => Just(b'"'),
        1 => Just(b' '),
        1 => b'0'..=b'9',
    ]
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(framing_byte(), 0..24),
        1 => prop::collection::vec(any::<u8>(), 0..700),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop::collection::vec(arg(), 1..7)
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::collection::vec(1usize..=4, 1..8),
        prop::collection::vec(1usize..=64, 1..8),
        prop::collection::vec(1usize..=2048, 1..4),
    ]
}

/// What goes before a command: nothing, or a frame Redis skips.
#[derive(Debug, Clone, Copy)]
enum Noop {
    None,
    Empty,
    Null,
    NegativeTen,
}

fn noop() -> impl Strategy<Value = Noop> {
    prop_oneof![
        6 => Just(Noop::None),
        1 => Just(Noop::Empty),
        1 => Just(Noop::Null),
        1 => Just(Noop::NegativeTen),
    ]
}

fn limits() -> impl Strategy<Value = ParserLimits> {
    (
        any::<bool>(),
        prop_oneof![Just(512 * 1024 * 1024i64), 0i64..64, Just(16 * 1024i64)],
    )
        .prop_map(|(authenticated, max_bulk_len)| ParserLimits {
            max_bulk_len,
            authenticated,
        })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// (a) Round trips, whatever the chunking.

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn multibulk_round_trips_under_any_chunking(
        commands in prop::collection::vec((noop(), command()), 1..6),
        chunks in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        for (noop, cmd) in &commands {
            match noop {
                Noop::None => {}
                Noop::Empty => input.extend_from_slice(b"*0\r\n"),
                Noop::Null => input.extend_from_slice(b"*-1\r\n"),
                Noop::NegativeTen => input.extend_from_slice(b"*-10\r\n"),
            }
            encode_multibulk(cmd, &mut input);
        }
        let expected: Vec<Command> = commands.iter().map(|(_, c)| c.clone()).collect();
        let run = run_chunked(&input, &chunks, ParserLimits::default());
        prop_assert_eq!(&run.error, &None);
        prop_assert_eq!(&run.commands, &expected);
        prop_assert_eq!(run.leftover, 0);
        prop_assert!(!run.in_command);
    }

    #[test]
    fn inline_hex_escapes_round_trip_under_any_chunking(
        commands in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..5), 1..5),
        chunks in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        for cmd in &commands {
            encode_inline_hex(cmd, &mut input);
        }
        let run = run_chunked(&input, &chunks, ParserLimits::default());
        prop_assert_eq!(&run.error, &None);
        prop_assert_eq!(&run.commands, &commands);
        prop_assert_eq!(run.leftover, 0);
    }

    #[test]
    fn inline_words_round_trip_with_any_blanks(
        commands in prop::collection::vec(
            prop::collection::vec("[A-Za-z0-9_:.{}-]{1,12}", 1..6), 1..5),
        blanks in prop::collection::vec("[ \t]{1,3}", 1..4),
        lf_only in any::<bool>(),
        chunks in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        let mut b = 0;
        for cmd in &commands {
            // Leading and trailing blanks are allowed too.
            input.extend_from_slice(blanks[b % blanks.len()].as_bytes());
            for word in cmd {
                input.extend_from_slice(word.as_bytes());
                b += 1;
                input.extend_from_slice(blanks[b % blanks.len()].as_bytes());
            }
            input.extend_from_slice(if lf_only { b"\n" } else { b"\r\n" });
        }
        let expected: Vec<Command> = commands
            .iter()
            .map(|c| c.iter().map(|w| w.as_bytes().to_vec()).collect())
            .collect();
        let run = run_chunked(&input, &chunks, ParserLimits::default());
        prop_assert_eq!(&run.error, &None);
        prop_assert_eq!(&run.commands, &expected);
        prop_assert_eq!(run.leftover, 0);
    }

    /// Cutting the stream short leaves the parser waiting, never erroring,
    /// and never handing out a command that was not completely sent.
    #[test]
    fn truncated_multibulk_is_incomplete(
        commands in prop::collection::vec(command(), 1..4),
        cut_permille in 0usize..1000,
        chunks in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        let mut ends = Vec::new();
        for cmd in &commands {
            encode_multibulk(cmd, &mut input);
            ends.push(input.len());
        }
        let cut = input.len() * cut_permille / 1000;
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        let run = run_chunked(&input[..cut], &chunks, ParserLimits::default());
        prop_assert_eq!(&run.error, &None);
        prop_assert_eq!(&run.commands[..], &commands[..complete]);
        let consumed = if complete == 0 { 0 } else { ends[complete - 1] };
        prop_assert_eq!(run.leftover, cut - consumed);
    }
}

// ---------------------------------------------------------------------------
// (b) Agreement with redis-protocol's RESP2 decoder on valid frames.

/// A request frame for the oracle: an array of bulk strings (possibly empty),
/// or the null array `*-1` (which the oracle's encoder cannot write at the
/// top level, so it is written by hand).
#[derive(Debug, Clone)]
enum Frame {
    Request(Command),
    EmptyArray,
    NullArray,
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        8 => command().prop_map(Frame::Request),
        1 => Just(Frame::EmptyArray),
        1 => Just(Frame::NullArray),
    ]
}

fn oracle_bytes(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        let owned = match f {
            Frame::NullArray => {
                out.extend_from_slice(b"*-1\r\n");
                continue;
            }
            Frame::EmptyArray => OwnedFrame::Array(Vec::new()),
            Frame::Request(args) => OwnedFrame::Array(
                args.iter()
                    .map(|a| OwnedFrame::BulkString(a.clone()))
                    .collect(),
            ),
        };
        let mut buf = vec![0u8; owned.encode_len(false)];
        let n = oracle_encode(&mut buf, &owned, false).expect("oracle encodes");
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// The commands the oracle sees in `input`: every top-level array of bulk
/// strings, skipping the empty and null arrays Redis skips.
fn oracle_commands(input: &[u8]) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut offset = 0;
    while offset < input.len() {
        let (frame, used) = oracle_decode(&input[offset..])
            .expect("oracle decodes a valid stream")
            .expect("oracle sees a complete frame");
        offset += used;
        match frame {
            OwnedFrame::Null => {}
            OwnedFrame::Array(items) if items.is_empty() => {}
            OwnedFrame::Array(items) => commands.push(
                items
                    .into_iter()
                    .map(|item| match item {
                        OwnedFrame::BulkString(b) => b,
                        other => panic!("oracle decoded a non-bulk argument {other:?}"),
                    })
                    .collect(),
            ),
            other => panic!("oracle decoded a non-array request {other:?}"),
        }
    }
    commands
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn agrees_with_redis_protocol_decoder(
        frames in prop::collection::vec(frame(), 1..8),
        chunks in chunk_sizes(),
    ) {
        let input = oracle_bytes(&frames);
        let expected = oracle_commands(&input);
        // Sanity: the oracle gives back what was encoded.
        let generated: Vec<Command> = frames
            .iter()
            .filter_map(|f| match f {
                Frame::Request(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(&expected, &generated);

        let whole = run_whole(&input, ParserLimits::default());
        prop_assert_eq!(&whole.error, &None);
        prop_assert_eq!(&whole.commands, &expected);
        let chunked = run_chunked(&input, &chunks, ParserLimits::default());
        prop_assert_eq!(&chunked.commands, &expected);
        prop_assert_eq!(chunked.leftover, 0);
    }
}

// ---------------------------------------------------------------------------
// (c) Arbitrary bytes.

/// Random bytes, with enough protocol structure that the parser gets past
/// the first header now and then.
fn hostile_bytes(allow_nul: bool) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::collection::vec(framing_byte(), 1..16),
        1 => prop::collection::vec(any::<u8>(), 1..64),
        1 => (0i64..40).prop_map(|n| format!("*{n}\r\n").into_bytes()),
        1 => (-3i64..70000).prop_map(|n| format!("${n}\r\n").into_bytes()),
        1 => Just(b"*1000000000\r\n".to_vec()),
        1 => Just(b"*2147483647\r\n".to_vec()),
        1 => Just(b"PING\r\n".to_vec()),
        1 => Just(b"\"a\\x4".to_vec()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(move |pieces| {
        let mut bytes: Vec<u8> = pieces.concat();
        if !allow_nul {
            // See `arbitrary_bytes_never_panic_or_overallocate`: NUL in an
            // inline line currently makes the parser loop forever.
            for b in &mut bytes {
                if *b == 0 {
                    *b = b'0';
                }
            }
        }
        bytes
    })
}

fn check_arbitrary(
    input: &[u8],
    chunks: &[usize],
    limits: ParserLimits,
) -> Result<(), TestCaseError> {
    reset_largest();
    let chunked = run_chunked(input, chunks, limits);
    let whole = run_whole(input, limits);
    let biggest = largest();
    // The parser keeps at most 1024 argument spans up front, plus what the
    // bytes it was given could justify; the harness itself copies the input.
    let bound = 64 * 1024 + 64 * input.len();
    prop_assert!(
        biggest <= bound,
        "an allocation of {} bytes for {} bytes of input",
        biggest,
        input.len()
    );
    // The input is far below the 64 KB line limit, so chunking cannot matter.
    prop_assert_eq!(&chunked.commands, &whole.commands);
    prop_assert_eq!(&chunked.error, &whole.error);
    prop_assert_eq!(chunked.in_command, whole.in_command);
    if whole.error.is_none() {
        prop_assert_eq!(chunked.leftover, whole.leftover);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(300))]

    /// Arbitrary bytes without NUL: never a panic, never a large allocation,
    /// the same outcome however the stream is chunked.
    ///
    /// Ignored: it finds the panic of `bulk_header_line_starting_with_cr_is_an_error`
    /// within a few hundred cases (shrunk to `*1\r\n\r0`). With that one input
    /// shape excluded, 20 000 cases passed.
    #[test]
    fn arbitrary_nul_free_bytes_never_panic_or_overallocate(
        input in hostile_bytes(false),
        chunks in chunk_sizes(),
        limits in limits(),
    ) {
        check_arbitrary(&input, &chunks, limits)?;
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// The full property, NUL bytes included.
    ///
    /// Ignored: `split_inline_args` never advances past an unquoted NUL byte
    /// (the `0 => break` arm ends the word without moving `i`, and NUL is not
    /// skipped as a blank), so an inline line such as `PING\x00\r\n` pushes
    /// empty argument spans forever: the connection's task spins and its
    /// memory grows without bound. (Redis's `sdssplitargs` stops at NUL.) Run
    /// it, once that is fixed, with `cargo test --test parser_props --
    /// --ignored`; until then the allocation cap aborts this binary with
    /// "memory allocation of N bytes failed" instead of taking all memory.
    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate(
        input in hostile_bytes(true),
        chunks in chunk_sizes(),
        limits in limits(),
    ) {
        check_arbitrary(&input, &chunks, limits)?;
    }
}

// ---------------------------------------------------------------------------
// Fixed cases.

#[test]
fn inline_nul_byte_hides_the_line_end_like_strchr() {
    // Redis looks for the inline line's '\n' with strchr, which stops at the
    // NUL: the line is not complete yet, so nothing runs and nothing fails.
    reset_largest();
    let run = run_whole(b"PING\x00junk\r\n", ParserLimits::default());
    assert!(largest() < 64 * 1024);
    assert_eq!(run.error, None);
    assert_eq!(run.commands.len(), 0);
}

/// After `*1\r\n`, a line that starts with `\r` (`\r\n`, `\r0`...) is where a
/// `$N` header should be. Redis answers `-ERR Protocol error: expected '$',
/// got ' '` (its error formatter turns \r and \n into spaces) and closes.
/// cachet's `read_header_line` slices `rest[1..cr]` with `cr == 0` and panics,
/// which in the server kills the connection's task with no reply.
#[test]
fn bulk_header_line_starting_with_cr_is_an_error() {
    for input in [
        &b"*1\r\n\r\n"[..],
        b"*1\r\n\r0",
        b"*2\r\n$1\r\na\r\n\r\n$1\r\nb\r\n",
    ] {
        let run = std::panic::catch_unwind(|| run_whole(input, ParserLimits::default()))
            .unwrap_or_else(|_| {
                panic!(
                    "the parser panicked on {:?}",
                    String::from_utf8_lossy(input)
                )
            });
        assert_eq!(run.error, Some(ProtocolError::ExpectedDollar(b'\r')));
    }
}

#[test]
fn huge_multibulk_counts_reserve_little() {
    for header in [
        &b"*1000000000\r\n"[..],
        b"*2147483647\r\n",
        b"*1000000000\r\n$1\r\na\r\n$1\r\nb\r\n",
    ] {
        reset_largest();
        let run = run_whole(header, ParserLimits::default());
        assert_eq!(run.error, None);
        assert!(run.in_command);
        assert!(
            largest() <= 64 * 1024,
            "{:?}: an allocation of {} bytes",
            String::from_utf8_lossy(header),
            largest()
        );
    }
}

#[test]
fn every_split_of_a_pipeline_gives_the_same_commands() {
    let input: &[u8] = b"*1\r\n$4\r\nPING\r\nECHO \"a\\x41\\r\\n\" 'b c'\r\n*0\r\n*-1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n\r\n\r\n\r\nPING\n";
    let expected = run_whole(input, ParserLimits::default());
    assert_eq!(expected.error, None);
    assert_eq!(
        expected.commands,
        vec![
            vec![b"PING".to_vec()],
            vec![b"ECHO".to_vec(), b"aA\r\n".to_vec(), b"b c".to_vec()],
            vec![b"SET".to_vec(), b"k".to_vec(), b"\r\n\r\n".to_vec()],
            vec![b"PING".to_vec()],
        ]
    );
    for a in 1..input.len() {
        for b in a..input.len() {
            let mut parser = RequestParser::new();
            let mut buffer = Vec::new();
            let mut commands = Vec::new();
            for piece in [&input[..a], &input[a..b], &input[b..]] {
                buffer.extend_from_slice(piece);
                while parser.next(&buffer, ParserLimits::default()).unwrap() == Parsed::Command {
                    commands.push(
                        parser
                            .args(&buffer)
                            .iter()
                            .map(|x| x.to_vec())
                            .collect::<Vec<_>>(),
                    );
                }
                let done = parser.consume();
                assert!(done <= buffer.len());
                buffer.drain(..done);
            }
            assert_eq!(commands, expected.commands, "split at {a} and {b}");
            assert!(buffer.is_empty());
        }
    }
}

#[test]
fn header_limits_follow_redis() {
    let cases: &[(&[u8], Option<ProtocolError>)] = &[
        (
            b"*3000000000\r\n",
            Some(ProtocolError::InvalidMultibulkLength),
        ),
        (
            b"*2147483648\r\n",
            Some(ProtocolError::InvalidMultibulkLength),
        ),
        (b"*01\r\n", Some(ProtocolError::InvalidMultibulkLength)),
        (b"*+1\r\n", Some(ProtocolError::InvalidMultibulkLength)),
        (b"*\r\n", Some(ProtocolError::InvalidMultibulkLength)),
        (b"*1\r\n$-1\r\n", Some(ProtocolError::InvalidBulkLength)),
        (b"*1\r\n$512\r\n", Some(ProtocolError::InvalidBulkLength)),
        (b"*1\r\nfoo\r\n", Some(ProtocolError::ExpectedDollar(b'f'))),
        (b"set \"a\r\n", Some(ProtocolError::UnbalancedQuotes)),
        (b"*1\r\n$511\r\n", None),
    ];
    let limits = ParserLimits {
        max_bulk_len: 511,
        authenticated: true,
    };
    for (input, error) in cases {
        let run = run_whole(input, limits);
        assert_eq!(&run.error, error, "{:?}", String::from_utf8_lossy(input));
    }
    let unauth = ParserLimits {
        max_bulk_len: 512 * 1024 * 1024,
        authenticated: false,
    };
    assert_eq!(
        run_whole(b"*11\r\n", unauth).error,
        Some(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(run_whole(b"*10\r\n", unauth).error, None);
    assert_eq!(
        run_whole(b"*1\r\n$16385\r\n", unauth).error,
        Some(ProtocolError::UnauthenticatedBulkLength)
    );
    assert_eq!(run_whole(b"*1\r\n$16384\r\n", unauth).error, None);

    // A header line with no end: an error past 64 KB, not before.
    for (marker, error) in [
        (b'*', ProtocolError::TooBigMbulkCount),
        (b'A', ProtocolError::TooBigInline),
    ] {
        let mut line = vec![marker];
        line.resize(64 * 1024, b'1');
        assert_eq!(run_whole(&line, ParserLimits::default()).error, None);
        line.push(b'1');
        assert_eq!(run_whole(&line, ParserLimits::default()).error, Some(error));
    }
    let mut bulk_header = b"*1\r\n$".to_vec();
    bulk_header.resize(4 + 64 * 1024 + 1, b'1');
    assert_eq!(
        run_whole(&bulk_header, ParserLimits::default()).error,
        Some(ProtocolError::TooBigBulkCount)
    );
}
