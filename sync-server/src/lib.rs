//! The district sync server (under construction).
