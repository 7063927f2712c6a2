//! Keyspace notifications: the `notify-keyspace-events` letters, and the
//! publishing of one event on `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>`, as Redis's `notify.c` does it.
//!
//! Events are recorded by the keyspace while a command runs (see
//! `storage::changes`) and published here once it has finished, in the
//! order they happened. This module formats channels; the hub delivers.

use super::pubsub::ChannelKind;
use crate::server::Shared;
use crate::storage::class;

/// Parses the letters of `notify-keyspace-events`; None for an unknown one.
pub fn parse_classes(text: &str) -> Option<u32> {
    let mut classes = 0;
    for letter in text.chars() {
        classes |= match letter {
            'A' => class::ALL,
            'g' => class::GENERIC,
            '$' => class::STRING,
            'l' => class::LIST,
            's' => class::SET,
            'h' => class::HASH,
            'z' => class::ZSET,
            'x' => class::EXPIRED,
            'e' => class::EVICTED,
            'K' => class::KEYSPACE,
            'E' => class::KEYEVENT,
            't' => class::STREAM,
            'm' => class::KEY_MISS,
            'd' => class::MODULE,
            'n' => class::NEW,
            _ => return None,
        };
    }
    Some(classes)
}

/// The letters CONFIG GET shows, in Redis's order (with `A` standing for
/// its classes, and, as in Redis, hiding `n` then).
pub fn format_classes(classes: u32) -> String {
    let mut text = String::new();
    if classes & class::ALL == class::ALL {
        text.push('A');
    } else {
        for (bit, letter) in [
            (class::GENERIC, 'g'),
            (class::STRING, '$'),
            (class::LIST, 'l'),
            (class::SET, 's'),
            (class::HASH, 'h'),
            (class::ZSET, 'z'),
            (class::EXPIRED, 'x'),
            (class::EVICTED, 'e'),
            (class::STREAM, 't'),
            (class::MODULE, 'd'),
            (class::NEW, 'n'),
        ] {
            if classes & bit != 0 {
                text.push(letter);
            }
        }
    }
    for (bit, letter) in [
        (class::KEYSPACE, 'K'),
        (class::KEYEVENT, 'E'),
        (class::KEY_MISS, 'm'),
    ] {
        if classes & bit != 0 {
            text.push(letter);
        }
    }
    text
}

/// Publishes one event of database `db` about `key`.
pub fn publish(shared: &Shared, db: usize, event: &str, key: &[u8]) {
    if shared.pubsub.is_idle() {
        return;
    }
    let classes = shared.keyspace.changes.notify_classes();
    let limits = &shared.output_limits;
    if classes & class::KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{}__:", db).into_bytes();
        channel.extend_from_slice(key);
        shared
            .pubsub
            .publish(ChannelKind::Global, &channel, event.as_bytes(), limits);
    }
    if classes & class::KEYEVENT != 0 {
        let channel = format!("__keyevent@{}__:{}", db, event);
        shared
            .pubsub
            .publish(ChannelKind::Global, channel.as_bytes(), key, limits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_like_redis() {
        let flags = |t: &str| parse_classes(t).unwrap_or(u32::MAX);
        assert_eq!(format_classes(flags("gKE")), "gKE");
        assert_eq!(format_classes(flags("$lshzxeKE")), "$lshzxeKE");
        assert_eq!(format_classes(flags("KA")), "AK");
        assert_eq!(format_classes(flags("EA")), "AE");
        assert_eq!(format_classes(flags("AnKEm")), "AKEm");
        assert_eq!(format_classes(flags("")), "");
        assert_eq!(parse_classes("Kq"), None);
    }
}
