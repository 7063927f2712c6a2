//! The RDB object encoding, as DUMP writes it and RESTORE reads it: one
//! value, its type byte first, then the RDB version (2 bytes) and a CRC-64
//! of everything before (8 bytes), both little endian.
//!
//! Writing follows Redis 7.0 (RDB version 10): strings as integers when
//! they are small integers and raw otherwise (uncompressed, which every
//! reader accepts), lists as quicklist nodes of listpacks, sets as an intset
//! or a list of members, hashes and sorted sets as one listpack when small,
//! else field/value (member/binary score) lists. So a DUMP from cachet
//! RESTOREs into Redis 7.0, and the other way round.
//!
//! Reading accepts what Redis 6.x and 7.0 write: every string encoding
//! (integers, LZF-compressed), listpacks, ziplists, intsets, quicklists of
//! either, and the old plain encodings. Anything else (streams, modules,
//! zipmaps) or any malformed byte is refused as bad data; nothing here
//! panics on input, and every length is checked against what is left.
//!
//! This module knows values only: no keys, no TTLs, no commands.

use super::entry::Contents;
use super::hash::Hash;
use super::set::Set;
use super::value::{EncodingLimits, List, Value};
use super::zset::ZSet;
use crate::util::parse_i64;

/// The RDB version cachet writes and the newest it reads.
pub const RDB_VERSION: u16 = 10;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_SET_LISTPACK: u8 = 20;

/// The newest RDB version the upstream tier reads (Redis 7.4, Valkey 8).
const UPSTREAM_RDB_VERSION: u16 = 12;

const QUICKLIST_PLAIN: u64 = 1;
const QUICKLIST_PACKED: u64 = 2;

/// Elements per listpack node when DUMP writes a list (Redis's default
/// node size, 8 KB, holds about this many small elements).
const LIST_NODE_ELEMENTS: usize = 128;
const LIST_NODE_BYTES: usize = 8 * 1024;

/// Why a RESTORE payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreError {
    /// The footer's version is newer than ours, or the checksum is wrong.
    VersionOrChecksum,
    /// The payload does not decode to a value cachet can hold.
    BadFormat,
}

// ---- CRC-64 (Jones polynomial, reflected, as Redis's crc64) ---------------------

const CRC64_POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

fn crc64_table() -> &'static [u64; 256] {
    use std::sync::OnceLock;
    static TABLE: OnceLock<[u64; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0u64; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut crc = i as u64;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ CRC64_POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
            *slot = crc;
        }
        table
    })
}

pub fn crc64(bytes: &[u8]) -> u64 {
    let table = crc64_table();
    bytes.iter().fold(0u64, |crc, &b| {
        table[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

// ---- writing ----------------------------------------------------------------------

/// The DUMP payload of `value`.
pub fn dump(contents: Contents<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match contents {
        Contents::Str(bytes) => {
            out.push(TYPE_STRING);
            put_string(&mut out, bytes);
        }
        Contents::List(list) => {
            out.push(TYPE_LIST_QUICKLIST_2);
            put_quicklist(&mut out, list);
        }
        Contents::Set(set) => match set {
            Set::Intset(ints) => {
                out.push(TYPE_SET_INTSET);
                put_string(&mut out, &intset_blob(ints));
            }
            Set::Table(_) => {
                out.push(TYPE_SET);
                put_len(&mut out, set.len() as u64);
                for member in set.iter() {
                    put_string(&mut out, &member);
                }
            }
        },
        Contents::Hash(hash) => {
            if hash.is_listpack() {
                out.push(TYPE_HASH_LISTPACK);
                let mut lp = ListpackWriter::default();
                for (field, value) in hash.iter() {
                    lp.push(field);
                    lp.push(value);
                }
                put_string(&mut out, &lp.finish());
            } else {
                out.push(TYPE_HASH);
                put_len(&mut out, hash.len() as u64);
                for (field, value) in hash.iter() {
                    put_string(&mut out, field);
                    put_string(&mut out, value);
                }
            }
        }
        Contents::SortedSet(zset) => match zset {
            ZSet::Listpack(_) => {
                out.push(TYPE_ZSET_LISTPACK);
                let mut lp = ListpackWriter::default();
                for (member, score) in zset.iter() {
                    lp.push(member);
                    lp.push(crate::util::format_d2string(score).as_bytes());
                }
                put_string(&mut out, &lp.finish());
            }
            ZSet::Skiplist(_) => {
                out.push(TYPE_ZSET_2);
                put_len(&mut out, zset.len() as u64);
                // Highest first, as Redis writes them.
                for (member, score) in zset.iter_from(0, true) {
                    put_string(&mut out, member);
                    out.extend_from_slice(&score.to_le_bytes());
                }
            }
        },
    }
    finish_dump(out)
}

/// Appends the RDB version and the checksum that end every DUMP payload.
fn finish_dump(mut out: Vec<u8>) -> Vec<u8> {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn put_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | 0x40);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// A string, as an 8/16/32-bit integer when it is one (and short), raw otherwise.
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 11 {
        if let Some(n) = parse_i64(bytes) {
            if let Ok(n) = i8::try_from(n) {
                out.push(0xc0);
                out.push(n as u8);
                return;
            }
            if let Ok(n) = i16::try_from(n) {
                out.push(0xc1);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
            if let Ok(n) = i32::try_from(n) {
                out.push(0xc2);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
        }
    }
    put_len(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_quicklist(out: &mut Vec<u8>, list: &List) {
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut node = ListpackWriter::default();
    for element in list.iter() {
        let full =
            node.count >= LIST_NODE_ELEMENTS || node.bytes.len() + element.len() > LIST_NODE_BYTES;
        if full && node.count > 0 {
            nodes.push(std::mem::take(&mut node).finish());
        }
        node.push(element);
    }
    if node.count > 0 {
        nodes.push(node.finish());
    }
    put_len(out, nodes.len() as u64);
    for blob in nodes {
        put_len(out, QUICKLIST_PACKED);
        put_string(out, &blob);
    }
}

/// Redis's intset: width (2, 4 or 8 bytes), count, then the sorted values,
/// all little endian.
fn intset_blob(ints: &[i64]) -> Vec<u8> {
    let width: u32 = if ints.iter().all(|&n| i16::try_from(n).is_ok()) {
        2
    } else if ints.iter().all(|&n| i32::try_from(n).is_ok()) {
        4
    } else {
        8
    };
    let mut blob = Vec::with_capacity(8 + ints.len() * width as usize);
    blob.extend_from_slice(&width.to_le_bytes());
    blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
    for &n in ints {
        match width {
            2 => blob.extend_from_slice(&(n as i16).to_le_bytes()),
            4 => blob.extend_from_slice(&(n as i32).to_le_bytes()),
            _ => blob.extend_from_slice(&n.to_le_bytes()),
        }
    }
    blob
}

/// Builds a Redis listpack: a 6-byte header (total bytes, element count),
/// entries of encoding + data + back-length, and an 0xFF terminator.
#[derive(Default)]
struct ListpackWriter {
    bytes: Vec<u8>,
    count: usize,
}

impl ListpackWriter {
    fn push(&mut self, element: &[u8]) {
        let start = self.bytes.len();
        match parse_i64(element) {
            Some(n) => put_listpack_int(&mut self.bytes, n),
            None => {
                let len = element.len();
                if len < 64 {
                    self.bytes.push(0x80 | len as u8);
                } else if len < 4096 {
                    self.bytes.push(0xe0 | (len >> 8) as u8);
                    self.bytes.push(len as u8);
                } else {
                    self.bytes.push(0xf0);
                    self.bytes.extend_from_slice(&(len as u32).to_le_bytes());
                }
                self.bytes.extend_from_slice(element);
            }
        }
        let entry_len = (self.bytes.len() - start) as u64;
        put_backlen(&mut self.bytes, entry_len);
        self.count += 1;
    }

    fn finish(self) -> Vec<u8> {
        let total = 6 + self.bytes.len() + 1;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        let count = self.count.min(65535) as u16;
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.bytes);
        out.push(0xff);
        out
    }
}

fn put_listpack_int(out: &mut Vec<u8>, n: i64) {
    if (0..=127).contains(&n) {
        out.push(n as u8);
    } else if (-4096..=4095).contains(&n) {
        let v = if n < 0 { (1 << 13) + n } else { n } as u16;
        out.push(0xc0 | (v >> 8) as u8);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xf1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
        out.push(0xf2);
        out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xf3);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        out.push(0xf4);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// The entry length, written so it can be read backwards (Redis's lpEncodeBacklen).
fn put_backlen(out: &mut Vec<u8>, len: u64) {
    let groups = match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    for i in (0..groups).rev() {
        let seven = ((len >> (7 * i)) & 127) as u8;
        out.push(if i == groups - 1 { seven } else { seven | 128 });
    }
}

// ---- reading ----------------------------------------------------------------------

/// Checks the footer of a DUMP payload (version and CRC) and decodes the value.
pub fn restore(payload: &[u8], limits: &EncodingLimits) -> Result<Value, RestoreError> {
    restore_up_to(payload, limits, RDB_VERSION)
}

/// The same for a DUMP that the upstream tier fetched: newer servers' footers
/// (Redis 7.2 and 7.4, Valkey 8: RDB 11 and 12) and their set listpack are
/// accepted too. RESTORE stays exactly Redis 7.0's.
pub fn restore_from_upstream(
    payload: &[u8],
    limits: &EncodingLimits,
) -> Result<Value, RestoreError> {
    restore_up_to(payload, limits, UPSTREAM_RDB_VERSION)
}

fn restore_up_to(
    payload: &[u8],
    limits: &EncodingLimits,
    newest: u16,
) -> Result<Value, RestoreError> {
    let (body, version) = checked_body(payload, newest)?;
    let mut reader = Reader {
        bytes: body,
        at: 0,
        set_listpack: version > RDB_VERSION,
    };
    let value = reader.value(limits).ok_or(RestoreError::BadFormat)?;
    if reader.at != body.len() || value.contents().aggregate_len() == Some(0) {
        return Err(RestoreError::BadFormat);
    }
    Ok(value)
}

/// The body of a DUMP-style payload and its RDB version, once its footer
/// (version no newer than `newest`, CRC-64) checks out.
fn checked_body(payload: &[u8], newest: u16) -> Result<(&[u8], u16), RestoreError> {
    if payload.len() < 10 {
        return Err(RestoreError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > newest {
        return Err(RestoreError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if crc64(&payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return Err(RestoreError::VersionOrChecksum);
    }
    Ok((body, version))
}

/// The RDB opcode before each library's code in FUNCTION DUMP (Redis 7.0's
/// `RDB_OPCODE_FUNCTION2`).
const OPCODE_FUNCTION: u8 = 245;

/// FUNCTION DUMP: each library's code after the function opcode, then the
/// usual footer.
pub fn dump_functions<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION);
        put_string(&mut out, code);
    }
    finish_dump(out)
}

/// FUNCTION RESTORE: the libraries' code from a FUNCTION DUMP payload.
pub fn restore_functions(payload: &[u8]) -> Result<Vec<Vec<u8>>, RestoreError> {
    let (body, version) = checked_body(payload, RDB_VERSION)?;
    let mut reader = Reader {
        bytes: body,
        at: 0,
        set_listpack: version > RDB_VERSION,
    };
    let mut codes = Vec::new();
    while reader.at < body.len() {
        if reader.byte() != Some(OPCODE_FUNCTION) {
            return Err(RestoreError::BadFormat);
        }
        codes.push(reader.string().ok_or(RestoreError::BadFormat)?);
    }
    Ok(codes)
}

/// A cursor over untrusted bytes: every read checks what is left.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Whether type 20 (a set as a listpack, RDB 11 on) may appear.
    set_listpack: bool,
}

/// How a length or string begins.
enum Len {
    Plain(u64),
    /// An encoded string: 0 int8, 1 int16, 2 int32, 3 LZF.
    Encoded(u8),
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn len_or_encoding(&mut self) -> Option<Len> {
        let first = self.byte()?;
        Some(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain((u64::from(first & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(
                    self.take(4)?.try_into().ok()?,
                ))),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().ok()?)),
                _ => return None,
            },
            _ => Len::Encoded(first & 0x3f),
        })
    }

    fn len(&mut self) -> Option<u64> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Some(n),
            Len::Encoded(_) => None,
        }
    }

    /// A count of items that must each take at least one byte of what is left.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.len()?).ok()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Some(self.take(usize::try_from(n).ok()?)?.to_vec()),
            Len::Encoded(0) => Some((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Some(
                i16::from_le_bytes(self.take(2)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Len::Encoded(2) => Some(
                i32::from_le_bytes(self.take(4)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Len::Encoded(3) => {
                let compressed = usize::try_from(self.len()?).ok()?;
                let plain = usize::try_from(self.len()?).ok()?;
                let data = self.take(compressed)?;
                lzf_decompress(data, plain)
            }
            Len::Encoded(_) => None,
        }
    }

    fn value(&mut self, limits: &EncodingLimits) -> Option<Value> {
        let kind = self.byte()?;
        match kind {
            TYPE_STRING => Some(Value::Str(self.string()?)),
            TYPE_LIST => {
                let n = self.count()?;
                let mut list = List::new();
                for _ in 0..n {
                    list.push_back(self.string()?.into());
                }
                Some(Value::List(Box::new(list)))
            }
            TYPE_LIST_ZIPLIST => {
                let blob = self.string()?;
                let list: List = ziplist_entries(&blob)?
                    .into_iter()
                    .map(Into::into)
                    .collect();
                Some(Value::List(Box::new(list)))
            }
            TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.count()?;
                let mut list = List::new();
                for _ in 0..nodes {
                    let container = if kind == TYPE_LIST_QUICKLIST_2 {
                        self.len()?
                    } else {
                        QUICKLIST_PACKED
                    };
                    let blob = self.string()?;
                    match container {
                        QUICKLIST_PLAIN => list.push_back(blob.into()),
                        QUICKLIST_PACKED => {
                            let entries = if kind == TYPE_LIST_QUICKLIST_2 {
                                listpack_entries(&blob)?
                            } else {
                                ziplist_entries(&blob)?
                            };
                            if entries.is_empty() {
                                return None;
                            }
                            list.extend(entries.into_iter().map(Into::into));
                        }
                        _ => return None,
                    }
                }
                Some(Value::List(Box::new(list)))
            }
            TYPE_SET => {
                let n = self.count()?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    members.push(self.string()?);
                }
                Some(build_set(members, limits))
            }
            TYPE_SET_LISTPACK if self.set_listpack => {
                let members = listpack_entries(&self.string()?)?;
                Some(build_set(members, limits))
            }
            TYPE_SET_INTSET => {
                let members = intset_members(&self.string()?)?;
                Some(build_set(members, limits))
            }
            TYPE_HASH => {
                let n = self.count()?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    pairs.push((self.string()?, self.string()?));
                }
                build_hash(pairs, limits)
            }
            TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
                let blob = self.string()?;
                let entries = if kind == TYPE_HASH_LISTPACK {
                    listpack_entries(&blob)?
                } else {
                    ziplist_entries(&blob)?
                };
                build_hash(pairs_of(entries)?, limits)
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.string()?;
                    let score = if kind == TYPE_ZSET_2 {
                        f64::from_le_bytes(self.take(8)?.try_into().ok()?)
                    } else {
                        self.old_score()?
                    };
                    items.push((member, score));
                }
                build_zset(items, limits)
            }
            TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
                let blob = self.string()?;
                let entries = if kind == TYPE_ZSET_LISTPACK {
                    listpack_entries(&blob)?
                } else {
                    ziplist_entries(&blob)?
                };
                let mut items = Vec::new();
                for (member, score) in pairs_of(entries)? {
                    items.push((member, crate::util::parse_f64(&score)?));
                }
                build_zset(items, limits)
            }
            _ => None,
        }
    }

    /// A score in the old sorted-set encoding: a length byte (253 NaN, 254
    /// +inf, 255 -inf) then the number as text.
    fn old_score(&mut self) -> Option<f64> {
        match self.byte()? {
            253 => None,
            254 => Some(f64::INFINITY),
            255 => Some(f64::NEG_INFINITY),
            n => {
                let text = self.take(usize::from(n))?;
                crate::util::parse_f64(text)
            }
        }
    }
}

fn pairs_of(entries: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut pairs = Vec::with_capacity(entries.len() / 2);
    let mut it = entries.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        pairs.push((a, b));
    }
    Some(pairs)
}

fn build_set(members: Vec<Vec<u8>>, limits: &EncodingLimits) -> Value {
    let mut set = members
        .first()
        .map(|m| Set::for_member(m))
        .unwrap_or_default();
    for member in &members {
        set.insert(member, limits);
    }
    Value::Set(Box::new(set))
}

fn build_hash(pairs: Vec<(Vec<u8>, Vec<u8>)>, limits: &EncodingLimits) -> Option<Value> {
    let mut hash = Hash::default();
    for (field, value) in &pairs {
        // A repeated field is corrupt data, as Redis's loader says.
        if !hash.insert(field, value, limits) {
            return None;
        }
    }
    Some(Value::Hash(hash))
}

fn build_zset(mut items: Vec<(Vec<u8>, f64)>, limits: &EncodingLimits) -> Option<Value> {
    if items.iter().any(|(_, s)| s.is_nan()) {
        return None;
    }
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    let before = items.len();
    let mut members: Vec<&[u8]> = items.iter().map(|(m, _)| m.as_slice()).collect();
    members.sort_unstable();
    members.dedup();
    if members.len() != before {
        return None;
    }
    Some(Value::SortedSet(Box::new(ZSet::from_sorted(
        &items, limits,
    ))))
}

/// The entries of a Redis listpack, each as bytes (integers as their text).
fn listpack_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    if blob.len() < 7 || u32::from_le_bytes(blob[..4].try_into().ok()?) as usize != blob.len() {
        return None;
    }
    if *blob.last()? != 0xff {
        return None;
    }
    let mut r = Reader {
        bytes: &blob[..blob.len() - 1],
        at: 6,
        set_listpack: false,
    };
    let mut entries = Vec::new();
    while r.at < r.bytes.len() {
        let start = r.at;
        let first = r.byte()?;
        let entry: Vec<u8> = if first & 0x80 == 0 {
            i64::from(first & 0x7f).to_string().into_bytes()
        } else if first & 0xc0 == 0x80 {
            r.take(usize::from(first & 0x3f))?.to_vec()
        } else if first & 0xe0 == 0xc0 {
            let v = (i64::from(first & 0x1f) << 8) | i64::from(r.byte()?);
            let v = if v >= 1 << 12 { v - (1 << 13) } else { v };
            v.to_string().into_bytes()
        } else if first & 0xf0 == 0xe0 {
            let len = (usize::from(first & 0x0f) << 8) | usize::from(r.byte()?);
            r.take(len)?.to_vec()
        } else {
            match first {
                0xf0 => {
                    let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
                    r.take(len)?.to_vec()
                }
                0xf1 => i16::from_le_bytes(r.take(2)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
                0xf2 => {
                    let b = r.take(3)?;
                    let v = i32::from_le_bytes([b[0], b[1], b[2], 0]);
                    let v = (v << 8) >> 8;
                    v.to_string().into_bytes()
                }
                0xf3 => i32::from_le_bytes(r.take(4)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
                0xf4 => i64::from_le_bytes(r.take(8)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
                _ => return None,
            }
        };
        let entry_len = (r.at - start) as u64;
        let mut backlen = Vec::new();
        put_backlen(&mut backlen, entry_len);
        if r.take(backlen.len())? != backlen.as_slice() {
            return None;
        }
        entries.push(entry);
    }
    Some(entries)
}

/// The entries of a legacy ziplist (Redis before 7.0), each as bytes.
fn ziplist_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    if blob.len() < 11 || u32::from_le_bytes(blob[..4].try_into().ok()?) as usize != blob.len() {
        return None;
    }
    let mut r = Reader {
        bytes: blob,
        at: 10,
        set_listpack: false,
    };
    let mut entries = Vec::new();
    loop {
        let prevlen = r.byte()?;
        if prevlen == 0xff {
            break;
        }
        if prevlen == 0xfe {
            r.take(4)?;
        }
        let first = r.byte()?;
        let entry = match first >> 6 {
            0 => r.take(usize::from(first & 0x3f))?.to_vec(),
            1 => {
                let len = (usize::from(first & 0x3f) << 8) | usize::from(r.byte()?);
                r.take(len)?.to_vec()
            }
            2 => {
                let len = u32::from_be_bytes(r.take(4)?.try_into().ok()?) as usize;
                r.take(len)?.to_vec()
            }
            _ => {
                let n: i64 = match first {
                    0xc0 => i64::from(i16::from_le_bytes(r.take(2)?.try_into().ok()?)),
                    0xd0 => i64::from(i32::from_le_bytes(r.take(4)?.try_into().ok()?)),
                    0xe0 => i64::from_le_bytes(r.take(8)?.try_into().ok()?),
                    0xf0 => {
                        let b = r.take(3)?;
                        i64::from((i32::from_le_bytes([b[0], b[1], b[2], 0]) << 8) >> 8)
                    }
                    0xfe => i64::from(r.byte()? as i8),
                    0xf1..=0xfd => i64::from(first & 0x0f) - 1,
                    _ => return None,
                };
                n.to_string().into_bytes()
            }
        };
        entries.push(entry);
    }
    (r.at == blob.len()).then_some(entries)
}

/// The members of a Redis intset blob, as text.
fn intset_members(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    if blob.len() < 8 {
        return None;
    }
    let width = u32::from_le_bytes(blob[..4].try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob[4..8].try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() != 8 + count.checked_mul(width)? {
        return None;
    }
    let mut previous: Option<i64> = None;
    let mut members = Vec::with_capacity(count);
    for chunk in blob[8..].chunks(width) {
        let n = match width {
            2 => i64::from(i16::from_le_bytes(chunk.try_into().ok()?)),
            4 => i64::from(i32::from_le_bytes(chunk.try_into().ok()?)),
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        // An intset is strictly ascending; anything else is corrupt.
        if previous.is_some_and(|p| p >= n) {
            return None;
        }
        previous = Some(n);
        members.push(n.to_string().into_bytes());
    }
    Some(members)
}

/// LibLZF decompression (what Redis uses for long strings), refusing any
/// reference outside the output and any size but the announced one.
fn lzf_decompress(input: &[u8], expected: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected.min(512 * 1024 * 1024));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(i..i + run)?;
            out.extend_from_slice(literal);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len + 2 {
                let byte = out[start + k];
                out.push(byte);
            }
        }
        if out.len() > expected {
            return None;
        }
    }
    (out.len() == expected).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> EncodingLimits {
        EncodingLimits::default()
    }

    fn round_trip(value: Value) -> Value {
        restore(&dump(value.contents()), &limits()).expect("restores")
    }

    #[test]
    fn crc64_matches_redis_check_value() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn every_type_survives_a_round_trip() {
        for text in [&b"hello"[..], b"12", b"-40000", b"", b"9223372036854775807"] {
            match round_trip(Value::Str(text.to_vec())) {
                Value::Str(back) => assert_eq!(back, text),
                other => panic!("{:?}", other),
            }
        }
        let mut list: List = (0..300)
            .map(|i| format!("e{i}").into_bytes().into())
            .collect();
        list.push_front(vec![b'x'; 70000].into());
        list.push_back(vec![b'y'; 9000].into());
        match round_trip(Value::List(Box::new(list.clone()))) {
            Value::List(back) => assert_eq!(*back, list),
            other => panic!("{:?}", other),
        }
        let mut hash = Hash::default();
        for i in [-5000i64, -1, 0, 7, 200, 70000, 1 << 40] {
            hash.insert(i.to_string().as_bytes(), b"v", &limits());
        }
        hash.insert(b"long", &[b'x'; 5000], &EncodingLimits::default());
        match round_trip(Value::Hash(hash.clone())) {
            Value::Hash(back) => {
                assert_eq!(back.len(), hash.len());
                assert_eq!(back.get(b"70000"), Some(&b"v"[..]));
            }
            other => panic!("{:?}", other),
        }
        let mut zset = ZSet::new_small();
        zset.insert_new(b"a", 1.5, &limits());
        zset.insert_new(b"b", -3.0, &limits());
        match round_trip(Value::SortedSet(Box::new(zset))) {
            Value::SortedSet(back) => {
                assert_eq!(back.score(b"a"), Some(1.5));
                assert_eq!(back.rank(b"b"), Some(0));
            }
            other => panic!("{:?}", other),
        }
        let mut set = Set::default();
        set.insert(b"-70000", &limits());
        set.insert(b"3", &limits());
        match round_trip(Value::Set(Box::new(set))) {
            Value::Set(back) => {
                assert_eq!(back.encoding_name(), "intset");
                assert!(back.contains(b"-70000"));
            }
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn function_dumps_round_trip_and_damage_is_refused() {
        let codes: Vec<&[u8]> = vec![b"#!lua name=a\nreturn 1", b"#!lua name=b\n"];
        let payload = dump_functions(codes.iter().copied());
        let restored = restore_functions(&payload).expect("restores");
        assert_eq!(
            restored,
            codes.iter().map(|c| c.to_vec()).collect::<Vec<_>>()
        );
        let mut damaged = payload.clone();
        damaged[3] ^= 1;
        assert!(restore_functions(&damaged).is_err());
        assert!(restore_functions(b"bad_payload").is_err());
    }

    #[test]
    fn damaged_payloads_are_refused() {
        let good = dump(Contents::Str(b"value"));
        let mut flipped = good.clone();
        flipped[2] ^= 1;
        assert_eq!(
            restore(&flipped, &limits()).unwrap_err(),
            RestoreError::VersionOrChecksum
        );
        assert_eq!(
            restore(&good[..5], &limits()).unwrap_err(),
            RestoreError::VersionOrChecksum
        );
        // A valid footer around nonsense.
        let mut body = vec![TYPE_HASH_LISTPACK, 3, 1, 2, 3];
        body.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            restore(&body, &limits()).unwrap_err(),
            RestoreError::BadFormat
        );
    }

    #[test]
    fn lzf_expands_back_references() {
        // "aaaaaa": literal 'a', then a back reference of length 5 at distance 1.
        let compressed = [0x00, b'a', 0x60, 0x00];
        assert_eq!(lzf_decompress(&compressed, 6).unwrap(), b"aaaaaa");
        assert!(lzf_decompress(&[0x20, 0x05], 2).is_none());
    }
}
