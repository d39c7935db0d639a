//! Fuzz entry points for the protocol bodies.
