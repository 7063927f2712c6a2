//! Feeds arbitrary bytes through cachet's `RequestParser` the way
//! `server/connection.rs` does: in chunks, parsing every complete command
//! after each chunk, reading its arguments, then draining `consume()` bytes.
//!
//! Input layout: byte 0 seeds the chunk sizes, byte 1 picks the limits
//! (authenticated or not, proto-max-bulk-len); the rest is the stream.
//!
//! Checks: no panic; `consume()` never exceeds the buffer; the offsets the
//! parser reports stay inside the buffer; and the outcome (commands and
//! error) is the same when the whole stream arrives at once, except for
//! inline lines over 64 KB, where Redis's outcome too depends on how the
//! bytes were read.
#![no_main]

use cachet::errors::ProtocolError;
use cachet::protocol::{Parsed, ParserLimits, RequestParser};
use libfuzzer_sys::fuzz_target;

type Commands = Vec<Vec<Vec<u8>>>;

fn run(
    stream: &[u8],
    mut next_chunk: impl FnMut() -> usize,
    limits: ParserLimits,
) -> (Commands, Option<ProtocolError>) {
    let mut parser = RequestParser::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut commands = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let take = next_chunk().clamp(1, stream.len() - fed);
        buffer.extend_from_slice(&stream[fed..fed + take]);
        fed += take;
        loop {
            match parser.next(&buffer, limits) {
                Ok(Parsed::Command) => {
                    let args = parser.args(&buffer);
                    assert!(!args.is_empty(), "a command without arguments");
                    commands.push(args.iter().map(|a| a.to_vec()).collect());
                }
                Ok(Parsed::Incomplete) => break,
                Err(error) => return (commands, Some(error)),
            }
        }
        let done = parser.consume();
        assert!(
            done <= buffer.len(),
            "consume() = {done} > buffer of {}",
            buffer.len()
        );
        buffer.drain(..done);
        assert!(parser.pending_bytes(buffer.len()) <= buffer.len());
        let _ = parser.bytes_wanted(buffer.len());
    }
    (commands, None)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (control, stream) = data.split_at(2);
    let limits = ParserLimits {
        authenticated: control[1] & 1 == 0,
        max_bulk_len: match (control[1] >> 1) & 3 {
            0 => 512 * 1024 * 1024,
            1 => 16,
            2 => 16 * 1024,
            _ => 0,
        },
    };
    // Chunk sizes from a small LCG seeded by byte 0: mostly tiny, sometimes large.
    let mut state = u32::from(control[0]) | 1;
    let chunked = run(
        stream,
        || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let r = (state >> 16) as usize;
            if r % 8 == 0 {
                1 + r % 4096
            } else {
                1 + r % 16
            }
        },
        limits,
    );
    let whole = run(stream, || stream.len(), limits);
    let long_inline = matches!(chunked.1, Some(ProtocolError::TooBigInline))
        || matches!(whole.1, Some(ProtocolError::TooBigInline));
    if !long_inline {
        assert_eq!(chunked, whole, "chunking changed the outcome");
    }
});
