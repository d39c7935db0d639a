//! The endpoint directory (protocol-06 §5.1).
