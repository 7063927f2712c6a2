//! The list family: pushes, pops, ranges, moves, and the blocking pops.
