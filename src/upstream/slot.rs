//! Redis Cluster's key slots: which of the 16384 slots a key hashes to
//! (CRC16/XMODEM of the key, or of its `{hash tag}`), and the slot map a
//! cluster reports in CLUSTER SLOTS. Fills use it to send each read to the
//! master that owns the key, on that master's tracking connection.

use redis::Value as Reply;

pub const SLOTS: usize = 16384;

/// CRC16 with the XMODEM polynomial (0x1021), as Redis Cluster uses it.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of `key`: only the part inside the first `{...}` counts when
/// that part is not empty.
pub fn slot_of(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16(hashed) % SLOTS as u16
}

/// The masters of a cluster and which one owns each slot.
pub struct Layout {
    pub masters: Vec<(String, u16)>,
    pub slot_owner: Vec<u16>,
}

impl Layout {
    /// Reads a CLUSTER SLOTS reply; None unless every slot has a master.
    /// `seed_host` stands in for a node that reports an empty address.
    pub fn from_cluster_slots(reply: &Reply, seed_host: &str) -> Option<Layout> {
        let Reply::Array(ranges) = reply else {
            return None;
        };
        let mut masters: Vec<(String, u16)> = Vec::new();
        let mut slot_owner = vec![u16::MAX; SLOTS];
        for range in ranges {
            let Reply::Array(fields) = range else {
                return None;
            };
            let (Some(Reply::Int(start)), Some(Reply::Int(end)), Some(Reply::Array(master))) =
                (fields.first(), fields.get(1), fields.get(2))
            else {
                return None;
            };
            let host = match master.first() {
                Some(Reply::BulkString(host)) if !host.is_empty() => {
                    String::from_utf8_lossy(host).into_owned()
                }
                Some(Reply::BulkString(_)) => seed_host.to_string(),
                _ => return None,
            };
            let Some(Reply::Int(port)) = master.get(1) else {
                return None;
            };
            let port = u16::try_from(*port).ok()?;
            let index = match masters.iter().position(|m| m.0 == host && m.1 == port) {
                Some(index) => index,
                None => {
                    masters.push((host, port));
                    masters.len() - 1
                }
            };
            let (start, end) = (usize::try_from(*start).ok()?, usize::try_from(*end).ok()?);
            if start > end || end >= SLOTS {
                return None;
            }
            for owner in &mut slot_owner[start..=end] {
                *owner = index as u16;
            }
        }
        if slot_owner.contains(&u16::MAX) {
            return None;
        }
        Some(Layout {
            masters,
            slot_owner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // Values from CLUSTER KEYSLOT on Redis 7.0.
        assert_eq!(slot_of(b"foo"), 12182);
        assert_eq!(slot_of(b"bar"), 5061);
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"user1000"));
        assert_eq!(slot_of(b"foo{}{bar}"), slot_of(b"foo{}{bar}"));
        assert_eq!(slot_of(b"{}x"), crc16(b"{}x") % 16384);
        assert_eq!(crc16(b"123456789"), 0x31c3);
    }

    #[test]
    fn a_slot_map_must_cover_every_slot() {
        let node = |port: i64| {
            Reply::Array(vec![
                Reply::BulkString(b"127.0.0.1".to_vec()),
                Reply::Int(port),
                Reply::BulkString(b"id".to_vec()),
            ])
        };
        let range = |start: i64, end: i64, port: i64| {
            Reply::Array(vec![Reply::Int(start), Reply::Int(end), node(port)])
        };
        let full = Reply::Array(vec![range(0, 8191, 7000), range(8192, 16383, 7001)]);
        let layout = Layout::from_cluster_slots(&full, "h").expect("full map");
        assert_eq!(layout.masters.len(), 2);
        assert_eq!(layout.slot_owner[8191], 0);
        assert_eq!(layout.slot_owner[8192], 1);
        let partial = Reply::Array(vec![range(0, 100, 7000)]);
        assert!(Layout::from_cluster_slots(&partial, "h").is_none());
        assert!(Layout::from_cluster_slots(&Reply::Int(3), "h").is_none());
    }

    fn reply_strategy() -> impl proptest::strategy::Strategy<Value = Reply> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            (-5i64..20_000).prop_map(Reply::Int),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Reply::BulkString),
            Just(Reply::Nil),
        ];
        leaf.prop_recursive(3, 40, 6, |inner| {
            proptest::collection::vec(inner, 0..6).prop_map(Reply::Array)
        })
    }

    proptest::proptest! {
        /// Whatever a node answers to CLUSTER SLOTS, reading it never
        /// panics, and a map it accepts gives every slot a known master.
        #[test]
        fn any_cluster_slots_reply_is_read_safely(reply in reply_strategy()) {
            if let Some(layout) = Layout::from_cluster_slots(&reply, "seed") {
                proptest::prop_assert!(layout
                    .slot_owner
                    .iter()
                    .all(|owner| (*owner as usize) < layout.masters.len()));
            }
        }

        #[test]
        fn every_key_has_a_slot(key in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            proptest::prop_assert!((slot_of(&key) as usize) < SLOTS);
        }

        #[test]
        fn cluster_urls_split_into_nodes(url in "redis-cluster://([a-z0-9:@.,]{0,40})") {
            if let Some(nodes) = crate::upstream::link::node_urls(&url) {
                proptest::prop_assert!(!nodes.is_empty());
                proptest::prop_assert!(nodes.iter().all(|n| n.starts_with("redis://")));
            }
        }
    }
}
