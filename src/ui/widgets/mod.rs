//! Widgets shared by the panes.

pub mod masked_input;
pub mod qr;
