//! The sorted-set family: ZADD, ranges by rank, score and lex, the pops, the algebra (ZUNION, ZINTER, ZDIFF and STORE forms), ZSCAN.
