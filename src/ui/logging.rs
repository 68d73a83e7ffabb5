//! Logging to a 0600 file in the state folder, never to the screen (shared with the CLI).

pub use crate::logging::init;
