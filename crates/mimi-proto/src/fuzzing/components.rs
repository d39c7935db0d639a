//! Fuzz entry points for the room-state components.
