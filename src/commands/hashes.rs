//! The hash family: HSET, HGET, HINCRBY, HRANDFIELD, HSCAN and the rest.
