//! docs/tui.md and README.md show the key tables the app uses; this keeps them from drifting.

use tgsess::ui::keymap::{Keymap, markdown};

#[test]
fn the_key_tables_in_the_docs_and_readme_match_the_app() {
    let table = markdown(&Keymap::default());
    for file in ["docs/tui.md", "README.md"] {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let docs = std::fs::read_to_string(path).unwrap();
        assert!(
            docs.contains(&table),
            "{file} is out of date; its key tables should read:\n{table}"
        );
    }
}
