//! The set family: SADD, SREM, SPOP, SRANDMEMBER, the algebra (SINTER, SUNION, SDIFF and their STORE forms), SSCAN.
