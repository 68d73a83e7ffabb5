//! The TUI and Telegram Desktop tdata folders: importing one locked with a local passcode
//! (masked, re-asked when wrong), its row before that ("passcode needed"), and exporting an
//! account as a tdata folder (passcode typed twice, replacing only after a yes).

mod ui_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crossterm::event::KeyCode;
use serde_json::Value;
use tgsess::store::dir::SessionDir;
use tgsess::store::{self, Format};
use ui_support::*;

const PASSCODE: &str = "correct horse ☃";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tdata")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// The manifest's key of the passcode fixture.
fn passcode_fixture_key() -> String {
    let text = std::fs::read_to_string(fixture("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    manifest["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["folder"] == "passcode_dc4")
        .unwrap()["accounts"][0]["auth_key_hex"]
        .as_str()
        .unwrap()
        .to_string()
}

fn open_file_import(h: &mut Harness, path: &Path) {
    h.press(ch('i'));
    h.press(key(KeyCode::Up));
    h.press(key(KeyCode::Right)); // from a pasted string to a file path
    h.press(key(KeyCode::Down));
    h.type_str(path.to_str().unwrap());
    h.enter();
}

#[tokio::test]
async fn importing_a_locked_tdata_folder_asks_for_the_passcode_masked_and_again_when_wrong() {
    let mut h = Harness::new();
    let outside = tempfile::tempdir().unwrap();
    let folder = outside.path().join("desktop");
    copy_tree(&fixture("passcode_dc4"), &folder);
    open_file_import(&mut h, &folder);
    h.step("import/passcode").await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("locked with a local passcode"), "{screen}");

    h.type_str("wrong horse");
    assert!(
        !h.screen(100, 30).contains("wrong horse"),
        "the passcode is masked"
    );
    h.enter();
    h.idle().await;
    assert_eq!(h.top().as_deref(), Some("import/passcode"), "asked again");
    let screen = h.screen(100, 30);
    assert!(screen.contains("wrong local passcode"), "{screen}");
    assert!(!screen.contains("wrong horse"), "{screen}");

    // The field was emptied: the right passcode alone opens the folder.
    h.type_str(PASSCODE);
    assert!(!h.screen(100, 30).contains("horse"));
    h.enter();
    h.step("import/review").await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("Detected: tdata · DC 4"), "{screen}");
    assert!(screen.contains("user id 7000000001"), "{screen}");
    assert!(!screen.contains("horse"), "{screen}");
    h.enter();
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
    let saved = store::read_file(&h.dir.path().join("imported-1.session")).unwrap();
    let key = saved.session.auth_key().unwrap();
    assert_eq!(hex::encode(key.reveal()), passcode_fixture_key());
}

#[tokio::test]
async fn a_second_account_of_a_locked_folder_is_addressed_with_its_number() {
    let mut h = Harness::new();
    let outside = tempfile::tempdir().unwrap();
    let folder = outside.path().join("desktop");
    copy_tree(&fixture("passcode_dc4"), &folder);
    // The fixture holds one account: #2 is a clear error after the passcode, not a crash.
    let second = PathBuf::from(format!("{}#2", folder.display()));
    open_file_import(&mut h, &second);
    h.step("import/passcode").await;
    h.type_str(PASSCODE);
    h.enter();
    h.idle().await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("error:"), "{screen}");
    assert!(!screen.contains("horse"), "{screen}");
}

#[tokio::test]
async fn a_locked_tdata_folder_in_the_session_folder_says_passcode_needed() {
    let mut h = Harness::empty();
    copy_tree(&fixture("passcode_dc4"), &h.dir.path().join("desk"));
    let rows = tgsess::ui::effects::list_rows(&SessionDir::new(h.dir.path())).unwrap();
    h.st.set_rows(rows, None);
    let screen = h.screen(120, 30);
    let line = screen
        .lines()
        .find(|l| l.contains("desk"))
        .unwrap_or_else(|| panic!("no row: {screen}"));
    assert!(line.contains("passcode needed"), "{line}");
    assert!(line.contains("locked") && line.contains("tdata"), "{line}");
    assert!(!line.contains("error"), "{line}");
    assert!(
        screen.contains("passcode needed: this Telegram Desktop folder has a local passcode"),
        "{screen}"
    );
    // The filter finds it by what it shows.
    h.press(ch('/'));
    h.type_str("tdata");
    assert_eq!(h.st.view.len(), 1);
}

fn choose_tdata_export(h: &mut Harness) {
    h.press(ch('e'));
    for _ in 0..4 {
        if h.screen(100, 30)
            .contains("tdata folder (Telegram Desktop)")
        {
            break;
        }
        h.press(key(KeyCode::Right));
    }
    assert!(
        h.screen(100, 30)
            .contains("tdata folder (Telegram Desktop)")
    );
    h.enter();
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn exporting_a_tdata_folder_with_a_passcode_typed_twice_then_replacing_it_after_a_yes() {
    let mut h = Harness::new();
    let account = h.session_of(h.st.selected_row().unwrap());
    let outside = tempfile::tempdir().unwrap();
    let dest = outside.path().join("desk");
    choose_tdata_export(&mut h);
    h.step("export-tdata/form").await;
    h.type_str(dest.to_str().unwrap());
    h.press(key(KeyCode::Tab));
    h.type_str("pass one");
    h.press(key(KeyCode::Tab));
    h.type_str("pass two");
    h.enter();
    let screen = h.screen(100, 30);
    assert!(screen.contains("the two passcodes differ"), "{screen}");
    assert!(!screen.contains("pass one") && !screen.contains("pass two"));
    assert!(!dest.exists());
    h.type_str("pass one"); // the second field was emptied and focused
    h.enter();
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
    let back = store::read_file_with(&dest, b"pass one").unwrap();
    assert_eq!(back.format, Format::Tdata);
    assert_eq!(back.session.auth_key(), account.auth_key());
    assert_eq!(back.session.user_id, account.user_id);
    assert_eq!(back.session.dc_id, account.dc_id);
    assert!(matches!(
        store::read_file(&dest),
        Err(store::StoreError::PasscodeNeeded(_))
    ));
    assert_eq!(mode_of(&dest), 0o700);
    for entry in std::fs::read_dir(&dest).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode_of(&p), if p.is_dir() { 0o700 } else { 0o600 });
    }

    // Again into the same folder, no passcode: asked before anything is replaced.
    choose_tdata_export(&mut h);
    h.step("export-tdata/form").await;
    h.type_str(dest.to_str().unwrap());
    h.enter();
    h.step("export-tdata/replace").await;
    assert!(h.screen(100, 30).contains("already exists"));
    h.press(ch('n'));
    assert_eq!(h.top().as_deref(), Some("export-tdata/form"));
    assert!(store::read_file_with(&dest, b"pass one").is_ok(), "kept");
    h.enter();
    h.step("export-tdata/replace").await;
    h.press(ch('y'));
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
    let replaced = store::read_file(&dest).unwrap();
    assert_eq!(replaced.session.auth_key(), account.auth_key());
    let leftovers: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["desk"], "the old folder is gone, no temp left");
}

#[tokio::test]
async fn a_folder_that_is_not_tdata_is_never_replaced_from_the_pane() {
    let mut h = Harness::new();
    let outside = tempfile::tempdir().unwrap();
    let photos = outside.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::write(photos.join("cat.jpg"), b"meow").unwrap();
    choose_tdata_export(&mut h);
    h.step("export-tdata/form").await;
    h.type_str(photos.to_str().unwrap());
    h.enter();
    h.step("export-tdata/replace").await;
    h.press(ch('y'));
    h.idle().await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("not a tdata folder"), "{screen}");
    assert_eq!(std::fs::read(photos.join("cat.jpg")).unwrap(), b"meow");
}

/// In a real terminal: the locked folder's row, the masked passcode asked twice (the first one
/// wrong), and neither the screen output nor the log ever holds it.
#[test]
fn the_passcode_stays_off_the_screen_and_out_of_the_log_in_a_real_terminal() {
    use std::ffi::OsStr;
    use ui_support::pty::{Pty, Start};
    let home = Pty::home();
    let sessions = Pty::sessions(&home);
    let folder = sessions.join("desk");
    copy_tree(&fixture("passcode_dc4"), &folder);
    let args = [OsStr::new("--dir"), sessions.as_os_str()];
    let mut t = Pty::start(
        home,
        Start {
            rows: 30,
            cols: 110,
            args: &args,
            ..Start::default()
        },
    );
    t.wait_for("passcode needed");
    t.send(b"i");
    t.wait_for("Import a session");
    t.send(b"\x1b[A"); // Up: the source kind
    t.send(b"\x1b[C"); // Right: a file path
    t.send(b"\x1b[B"); // Down: the path field
    t.type_str(folder.to_str().unwrap());
    t.send(b"\r");
    t.wait_for("Local passcode");
    t.type_str("wrong horse");
    t.send(b"\r");
    t.wait_for("wrong local passcode");
    t.type_str(PASSCODE);
    t.send(b"\r");
    t.wait_for("Detected: tdata");
    t.send(b"\x1b");
    t.wait_gone("Import a session");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
    let raw = String::from_utf8_lossy(&t.raw).to_string();
    assert!(!raw.contains("horse"), "the passcode reached the terminal");
    let log = t.log();
    assert!(log.contains("tgsess TUI starting"), "{log}");
    assert!(!log.contains("horse"), "{log}");
}

fn snap(h: &Harness, name: &str) {
    for (w, ht) in [(80u16, 24u16), (60, 16)] {
        let term = h.terminal(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), term.backend());
    }
}

/// The new panes at 80×24 and 60×16 (fixture paths are relative: the same on every machine).
#[tokio::test]
async fn tdata_panes_snapshots() {
    let mut h = Harness::new();
    open_file_import(&mut h, Path::new("tests/fixtures/tdata/passcode_dc4"));
    h.step("import/passcode").await;
    h.type_str("nope");
    h.enter();
    h.idle().await;
    snap(&h, "tdata_import_wrong_passcode");
    h.press(key(KeyCode::Esc));

    choose_tdata_export(&mut h);
    h.step("export-tdata/form").await;
    h.type_str("tests/fixtures/tdata/one_account_dc2");
    h.press(key(KeyCode::Tab));
    h.type_str("pw");
    snap(&h, "tdata_export_form");
    h.press(key(KeyCode::Tab));
    h.type_str("pw");
    h.enter();
    h.step("export-tdata/replace").await;
    snap(&h, "tdata_export_replace");
    h.press(key(KeyCode::Esc)); // never replaces the fixture
    assert_eq!(h.top().as_deref(), Some("export-tdata/form"));
}
