//! The reply writer: the one place that knows how RESP2 and RESP3 encode each
//! kind of reply. Command handlers call `ReplyWriter` methods (`bulk`, `map_len`,
//! `null`, `double`, ...) and never format protocol bytes themselves, so the
//! differences between the two protocol versions live here only.
//!
//! It appends to the connection's output buffer; it never touches the socket.

use bytes::BufMut;

/// RESP version the client negotiated with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

pub struct ReplyWriter<'a> {
    out: &'a mut Vec<u8>,
    protocol: Protocol,
}

impl<'a> ReplyWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>, protocol: Protocol) -> Self {
        ReplyWriter { out, protocol }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// A writer over the same buffer, for a nested command (EXEC's queue).
    pub fn reborrow(&mut self) -> ReplyWriter<'_> {
        ReplyWriter {
            out: self.out,
            protocol: self.protocol,
        }
    }

    /// HELLO switches the protocol before writing its own reply.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    pub fn is_resp3(&self) -> bool {
        self.protocol == Protocol::Resp3
    }

    /// Bytes written so far (used to roll back a reply).
    pub fn position(&self) -> usize {
        self.out.len()
    }

    pub fn truncate(&mut self, position: usize) {
        self.out.truncate(position);
    }

    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, text: &str) {
        self.out.push(b'+');
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// An error line; `text` starts with its code (`ERR ...`). Newlines are
    /// replaced by spaces so a message can never break the framing.
    pub fn error(&mut self, text: &str) {
        self.error_bytes(text.as_bytes());
    }

    /// An error line from raw bytes (client-supplied bytes echoed back).
    pub fn error_bytes(&mut self, text: &[u8]) {
        self.out.push(b'-');
        for &b in text {
            self.out
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn integer(&mut self, value: i64) {
        self.out.push(b':');
        self.put_decimal(value);
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.out.push(b'$');
        self.put_decimal(data.len() as i64);
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn bulk_str(&mut self, text: &str) {
        self.bulk(text.as_bytes());
    }

    pub fn bulk_integer(&mut self, value: i64) {
        let mut buffer = itoa_buffer();
        let text = format_i64(value, &mut buffer);
        self.bulk(text);
    }

    /// The absent value: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.out.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    /// The absent array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.out.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array_len(&mut self, len: usize) {
        self.header(b'*', len);
    }

    /// A map of `len` pairs: a flat array of 2·len items in RESP2.
    pub fn map_len(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len * 2),
            Protocol::Resp3 => self.header(b'%', len),
        }
    }

    /// A set: an array in RESP2.
    pub fn set_len(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len),
            Protocol::Resp3 => self.header(b'~', len),
        }
    }

    /// An out-of-band push (pub/sub, invalidation): an array in RESP2.
    pub fn push_len(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len),
            Protocol::Resp3 => self.header(b'>', len),
        }
    }

    /// A double: a bulk string in RESP2, `,` in RESP3.
    pub fn double(&mut self, value: f64) {
        let text = crate::util::format_double(value);
        match self.protocol {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => {
                self.out.push(b',');
                self.out.extend_from_slice(text.as_bytes());
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `:1`/`:0` in RESP2, `#t`/`#f` in RESP3.
    pub fn boolean(&mut self, value: bool) {
        match self.protocol {
            Protocol::Resp2 => self.integer(value as i64),
            Protocol::Resp3 => {
                self.out
                    .extend_from_slice(if value { b"#t\r\n" } else { b"#f\r\n" })
            }
        }
    }

    /// A big number (given as its decimal text): `(` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &str) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(digits.as_bytes()),
            Protocol::Resp3 => {
                self.out.push(b'(');
                self.out.extend_from_slice(digits.as_bytes());
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// RESP3 attributes of `len` pairs ahead of a reply; nothing in RESP2.
    pub fn attribute_len(&mut self, len: usize) {
        if self.protocol == Protocol::Resp3 {
            self.header(b'|', len);
        }
    }

    /// Verbatim text (INFO, CLIENT LIST in RESP3): a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &str) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => {
                self.out.push(b'=');
                self.put_decimal(text.len() as i64 + 4);
                self.out.extend_from_slice(b"\r\ntxt:");
                self.out.extend_from_slice(text.as_bytes());
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    pub fn bulks<'i>(&mut self, items: impl ExactSizeIterator<Item = &'i [u8]>) {
        self.array_len(items.len());
        for item in items {
            self.bulk(item);
        }
    }

    /// Raw protocol bytes prepared elsewhere in this module's format.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn header(&mut self, marker: u8, len: usize) {
        self.out.push(marker);
        self.put_decimal(len as i64);
        self.out.extend_from_slice(b"\r\n");
    }

    fn put_decimal(&mut self, value: i64) {
        let mut buffer = itoa_buffer();
        let text = format_i64(value, &mut buffer);
        self.out.put_slice(text);
    }
}

fn itoa_buffer() -> [u8; 20] {
    [0u8; 20]
}

/// Formats an integer into a stack buffer without allocating.
pub fn format_i64(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let negative = value < 0;
    let mut magnitude = value.unsigned_abs();
    let mut i = buffer.len();
    loop {
        i -= 1;
        buffer[i] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buffer[i] = b'-';
    }
    &buffer[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_extreme_integers() {
        let mut buffer = itoa_buffer();
        assert_eq!(format_i64(i64::MIN, &mut buffer), b"-9223372036854775808");
        assert_eq!(format_i64(0, &mut buffer), b"0");
    }

    #[test]
    fn resp3_types_fall_back_in_resp2() {
        let mut out = Vec::new();
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp2);
        w.map_len(1);
        w.null();
        w.boolean(true);
        w.double(1.5);
        assert_eq!(out, b"*2\r\n$-1\r\n:1\r\n$3\r\n1.5\r\n");
        let mut out = Vec::new();
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp3);
        w.map_len(1);
        w.null();
        w.boolean(true);
        w.double(1.5);
        assert_eq!(out, b"%1\r\n_\r\n#t\r\n,1.5\r\n");
    }
}
