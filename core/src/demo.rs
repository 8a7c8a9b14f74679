//! A realistic village for trying Gridbook out and for benchmarks (being written).
