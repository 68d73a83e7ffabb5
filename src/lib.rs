//! tgsess: manage Telegram sessions whatever library made them.
//!
//! Layers (arrows point to what a module may use):
//! `cli`/`ui` -> `telegram` -> `store`; `sandbox` -> `store`.

pub mod cli;
pub mod crypto;
pub mod fsutil;
pub mod logging;
pub mod sandbox;
pub mod secret;
pub mod store;
pub mod telegram;
pub mod text;
pub mod ui;
