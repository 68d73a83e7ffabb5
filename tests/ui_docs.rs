//! docs/tui.md shows the key tables the app uses; this keeps them from drifting.

use tgsess::ui::keymap::{Keymap, markdown};

#[test]
fn the_key_table_in_the_docs_matches_the_app() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tui.md")).unwrap();
    let table = markdown(&Keymap::default());
    assert!(
        docs.contains(&table),
        "docs/tui.md is out of date; its key tables should read:\n{table}"
    );
}
