//! `tgsess convert INPUT... --to FORMAT -o FOLDER`, run as the real binary: a folder or many
//! files in one process, a private output folder, per-input errors that do not stop the
//! others, no silent overwrite, clashing names, tdata in and out.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn tdata_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tdata")
        .join(name)
}

/// Copies fixture files into `dir`, returning their paths.
fn copy_fixtures(dir: &Path, files: &[&str]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    files
        .iter()
        .map(|f| {
            let to = dir.join(f);
            std::fs::copy(fixtures_dir().join(f), &to).unwrap();
            to
        })
        .collect()
}

fn key_id_of(session_dir: &Path, path: &Path) -> Value {
    let out = tgsess(session_dir, &["inspect", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["auth_key_id_hex"].clone()
}

fn manifest_key_id(file: &str) -> Value {
    manifest().into_iter().find(|e| e["file"] == file).unwrap()["auth_key_id_hex"].clone()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    tgsess(dir, args)
}

const MIXED: [&str; 4] = [
    "telethon_dc2_user.session",
    "kurigram_dc2_user.session",
    "kurigram_string_dc2_user.txt",
    "pyrogram2_string_dc2_bot.txt",
];

fn stem(file: &str) -> &str {
    file.rsplit_once('.').unwrap().0
}

#[test]
fn a_folder_converts_every_session_into_a_new_private_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    copy_fixtures(&src, &MIXED);
    std::fs::write(src.join("notes.txt"), "shopping list").unwrap(); // not a session
    let out_dir = tmp.path().join("out/new");
    let out = run(
        tmp.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "tgsess-sqlite",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("4 converted, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode(&out_dir), 0o700);
    let mut written: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = MIXED
        .iter()
        .map(|f| format!("{}.session", stem(f)))
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    for file in MIXED {
        let output = out_dir.join(format!("{}.session", stem(file)));
        assert_eq!(mode(&output), 0o600, "{file}");
        assert_eq!(
            key_id_of(tmp.path(), &output),
            manifest_key_id(file),
            "{file}"
        );
    }
}

#[test]
fn one_failing_input_is_reported_by_name_and_the_others_convert() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    let files = copy_fixtures(&src, &MIXED[..2]);
    let broken = src.join("broken.session");
    std::fs::write(&broken, b"not a database at all").unwrap();
    let missing = src.join("gone.session");
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            files[0].to_str().unwrap(),
            broken.to_str().unwrap(),
            missing.to_str().unwrap(),
            files[1].to_str().unwrap(),
            "--to",
            "telethon-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: broken: "), "{err}");
    assert!(
        err.contains("gone.session: no such file or folder"),
        "{err}"
    );
    assert!(err.contains("2 converted, 2 failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for file in &MIXED[..2] {
        let output = out_dir.join(format!("{}.string", stem(file)));
        assert_eq!(mode(&output), 0o600);
        assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(file));
    }
    assert!(!out_dir.join("broken.string").exists());
}

#[test]
fn existing_outputs_are_kept_without_force_and_replaced_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    copy_fixtures(&src, &MIXED[..2]);
    let out_dir = tmp.path().join("out");
    let args = |force: bool| {
        let mut a = vec![
            "convert".to_string(),
            src.display().to_string(),
            "--to".into(),
            "pyrogram-sqlite".into(),
            "--api-id".into(),
            "12345".into(),
            "-o".into(),
            out_dir.display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let first = tgsess(
        tmp.path(),
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let before = snapshot(&out_dir);

    let again = tgsess(
        tmp.path(),
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("already exists (pass --force to replace it)")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("0 converted, 2 failed"), "{err}");
    assert_eq!(snapshot(&out_dir), before);

    let forced = tgsess(
        tmp.path(),
        &args(true).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("2 converted, 0 failed"));
    for file in &MIXED[..2] {
        let output = out_dir.join(format!("{}.session", stem(file)));
        assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(file));
    }
}

#[test]
fn inputs_with_the_same_name_fail_with_a_clear_error_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let a = copy_fixtures(&tmp.path().join("a"), &["telethon_dc2_user.session"]);
    let b = copy_fixtures(&tmp.path().join("b"), &["telethon_dc2_user.session"]);
    let other = copy_fixtures(&tmp.path().join("c"), &["kurigram_dc2_user.session"]);
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            a[0].to_str().unwrap(),
            b[0].to_str().unwrap(),
            other[0].to_str().unwrap(),
            "--to",
            "tgsess-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("error: telethon_dc2_user: 2 inputs have this name")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("1 converted, 2 failed"), "{err}");
    assert!(!out_dir.join("telethon_dc2_user.string").exists());
    assert!(out_dir.join("kurigram_dc2_user.string").exists());
}

#[test]
fn tdata_folders_convert_every_account_and_tdata_outputs_are_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("from-tdata");
    let two = tdata_fixture("two_accounts");
    let locked = tdata_fixture("passcode_dc4");
    let out = run(
        tmp.path(),
        &[
            "convert",
            two.to_str().unwrap(),
            tdata_fixture("one_account_dc2").to_str().unwrap(),
            locked.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: passcode_dc4: "), "{err}");
    assert!(err.contains("local passcode"), "{err}");
    assert!(err.contains("3 converted, 1 failed"), "{err}");
    for name in ["two_accounts", "two_accounts#2", "one_account_dc2"] {
        let output = out_dir.join(format!("{name}.session"));
        assert_eq!(mode(&output), 0o600, "{name}");
        let listed = format!("{}", two.parent().unwrap().join(name).display());
        assert_eq!(
            key_id_of(tmp.path(), &output),
            key_id_of(tmp.path(), Path::new(&listed)),
            "{name}"
        );
    }

    // Back to tdata: one folder per session.
    let back = tmp.path().join("to-tdata");
    let out = run(
        tmp.path(),
        &[
            "convert",
            out_dir.to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            back.to_str().unwrap(),
        ],
    );
    // tgsess's Telethon files keep the user id, so they go back to tdata: a folder each.
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("3 converted, 0 failed"), "{err}");
    for name in ["two_accounts", "two_accounts#2", "one_account_dc2"] {
        let folder = back.join(name);
        assert_eq!(mode(&folder), 0o700, "{name}");
        assert_eq!(
            key_id_of(tmp.path(), &folder),
            key_id_of(tmp.path(), &out_dir.join(format!("{name}.session"))),
            "{name}"
        );
    }

    let users = copy_fixtures(
        &tmp.path().join("users"),
        &["kurigram_dc2_user.session", "pyrogram2_dc2_user_v3.session"],
    );
    let out = run(
        tmp.path(),
        &[
            "convert",
            users[0].to_str().unwrap(),
            users[1].to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            back.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["kurigram_dc2_user.session", "pyrogram2_dc2_user_v3.session"] {
        let folder = back.join(stem(file));
        assert_eq!(mode(&folder), 0o700, "{file}");
        assert_eq!(
            key_id_of(tmp.path(), &folder),
            manifest_key_id(file),
            "{file}"
        );
    }
}

#[test]
fn one_input_and_an_existing_folder_writes_into_the_folder() {
    // What a shell glob that matched one file gives.
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_fixtures(&tmp.path().join("in"), &MIXED[..1]);
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = run(
        tmp.path(),
        &[
            "convert",
            files[0].to_str().unwrap(),
            "--to",
            "tgsess-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 converted, 0 failed"));
    let output = out_dir.join(format!("{}.string", stem(MIXED[0])));
    assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(MIXED[0]));
}

#[test]
fn many_sessions_convert_in_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    std::fs::create_dir(&src).unwrap();
    for i in 0..60 {
        std::fs::copy(
            fixtures_dir().join("telethon_dc2_user.session"),
            src.join(format!("s{i:02}.session")),
        )
        .unwrap();
    }
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "pyrofork-sqlite",
            "--api-id",
            "12345",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("60 converted, 0 failed"), "{err}");
    // Each note the 60 sessions share is said once, not 60 times.
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note: ")).collect();
    assert!(!notes.is_empty(), "{err}");
    for note in notes {
        assert!(note.ends_with("(60 sessions: s00, s01, s02, ...)"), "{err}");
    }
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 60);
}

#[test]
fn a_session_string_among_the_inputs_is_refused_without_being_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_fixtures(&tmp.path().join("in"), &MIXED[..1]);
    let string = std::fs::read_to_string(fixtures_dir().join("telethon_string_dc2.txt")).unwrap();
    let string = string.trim();
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            files[0].to_str().unwrap(),
            string,
            "--to",
            "tgsess-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let (err, text) = (stderr(&out), stdout(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: input 2: not a file or folder"),
        "{err}"
    );
    assert!(err.contains("1 converted, 1 failed"), "{err}");
    assert!(!err.contains(&string[..40]) && !text.contains(&string[..40]));
}

#[test]
fn batch_usage_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_fixtures(&tmp.path().join("in"), &MIXED[..2]);
    let (a, b) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());
    let out_dir = tmp.path().join("out");
    let o = out_dir.to_str().unwrap();
    let not_a_folder = tmp.path().join("file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["convert", a, b, "--to", "tgsess-sqlite"],
            "pass -o FOLDER",
        ),
        (
            &["convert", a, b, "--to", "tgsess-string", "-o", "-"],
            "not -",
        ),
        (
            &["convert", a, b, "--to", "tdata", "--user-id", "5", "-o", o],
            "--user-id names one account",
        ),
        (
            &["convert", a, "-", "--to", "tgsess-sqlite", "-o", o],
            "standard input",
        ),
        (
            &[
                "convert",
                a,
                b,
                "--to",
                "tgsess-sqlite",
                "-o",
                not_a_folder.to_str().unwrap(),
            ],
            "not a folder",
        ),
    ];
    for (args, expected) in cases {
        let out = run(tmp.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(!out_dir.exists(), "{args:?} created the output folder");
    }
}

// Durability of string outputs, which a batch makes durable together: every temp of a
// batch is written, their data synced, then they are renamed, then the folder is synced once.

/// `n` copies of one Telethon file in `dir/in`, as `s00.session`...
fn many_inputs(dir: &Path, n: usize) -> PathBuf {
    let src = dir.join("in");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..n {
        std::fs::copy(
            fixtures_dir().join("telethon_dc2_user.session"),
            src.join(format!("s{i:02}.session")),
        )
        .unwrap();
    }
    src
}

/// `convert SRC --to telethon-string -o OUT`, with extra environment (a crash point, a step log).
fn convert_strings(
    dir: &Path,
    src: &Path,
    out_dir: &Path,
    env: &[(&str, &Path)],
) -> std::process::Output {
    let mut cmd = common::tgsess_bin::command();
    cmd.args([
        "convert",
        src.to_str().unwrap(),
        "--to",
        "telethon-string",
        "-o",
        out_dir.to_str().unwrap(),
    ])
    .env("TGSESS_DIR", dir)
    .env_remove("TGSESS_TEST_CRASH_AT")
    .env_remove("TGSESS_TEST_STEP_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tgsess")
}

fn killed(out: &std::process::Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(libc::SIGKILL)
}

/// Every entry of `out_dir`: (name, bytes), sorted.
fn entries(out_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(read) = std::fs::read_dir(out_dir) else {
        return Vec::new();
    };
    let mut all: Vec<(String, Vec<u8>)> = read
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    all.sort();
    all
}

fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// What a crash may leave: each output absent or exactly what a whole run writes (`expected`),
/// and temps (which the next run sweeps). Returns how many outputs are there.
fn absent_or_complete(out_dir: &Path, expected: &[(String, Vec<u8>)]) -> usize {
    let mut complete = 0;
    for (name, bytes) in entries(out_dir) {
        if is_temp(&name) {
            continue;
        }
        let whole = expected.iter().find(|(n, _)| *n == name);
        assert!(
            whole.is_some_and(|(_, b)| *b == bytes),
            "{name} is there but not complete"
        );
        complete += 1;
    }
    complete
}

/// The whole run, for reference: every output a complete run writes.
fn reference_outputs(tmp: &Path, src: &Path) -> Vec<(String, Vec<u8>)> {
    let out_dir = tmp.join("reference");
    let out = convert_strings(tmp, src, &out_dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = entries(&out_dir);
    assert!(all.iter().all(|(name, _)| !is_temp(name)), "{all:?}");
    all
}

/// After a crash: the next run sweeps the dead writer's temps and writes the outputs that
/// are missing, refusing (without --force) those already there.
fn next_run_completes(tmp: &Path, src: &Path, out_dir: &Path, expected: &[(String, Vec<u8>)]) {
    let there = absent_or_complete(out_dir, expected);
    let out = convert_strings(tmp, src, out_dir, &[]);
    let err = stderr(&out);
    let summary = format!("{} converted, {there} failed", expected.len() - there);
    assert!(err.contains(&summary), "{summary}: {err}");
    assert_eq!(entries(out_dir), expected, "{err}");
}

#[test]
fn every_string_output_is_synced_before_its_rename_and_the_folder_after() {
    let tmp = tempfile::tempdir().unwrap();
    let src = many_inputs(tmp.path(), 24);
    let out_dir = tmp.path().join("out");
    let log = tmp.path().join("steps.log");
    let out = convert_strings(
        tmp.path(),
        &src,
        &out_dir,
        &[("TGSESS_TEST_STEP_LOG", &log)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("24 converted, 0 failed"));
    let steps: Vec<(String, String)> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let (step, what) = l.split_once(' ').unwrap();
            (step.to_string(), what.to_string())
        })
        .collect();
    let at = |step: &str, what: &str| {
        steps
            .iter()
            .position(|(s, w)| s == step && w == what)
            .unwrap_or_else(|| panic!("no step {step} {what}: {steps:?}"))
    };
    let folder = out_dir.display().to_string();
    for i in 0..24 {
        let output = out_dir
            .join(format!("s{i:02}.string"))
            .display()
            .to_string();
        let synced = at("batch-data-synced", &output);
        let renamed = at("batch-renamed", &output);
        assert!(
            synced < renamed,
            "s{i:02} renamed before its data was synced"
        );
        assert!(
            steps[renamed..]
                .iter()
                .any(|(s, w)| s == "batch-dir-synced" && *w == folder),
            "s{i:02}: no folder sync after its rename"
        );
    }
}

#[test]
fn a_kill_after_the_batch_sync_leaves_no_output_and_the_next_run_sweeps_its_temps() {
    let tmp = tempfile::tempdir().unwrap();
    let src = many_inputs(tmp.path(), 12);
    let expected = reference_outputs(tmp.path(), &src);
    let out_dir = tmp.path().join("out");
    let out = convert_strings(
        tmp.path(),
        &src,
        &out_dir,
        &[("TGSESS_TEST_CRASH_AT", Path::new("batch-synced"))],
    );
    assert!(killed(&out), "{:?} {}", out.status, stderr(&out));
    // Synced but not yet renamed: nothing under a final name, only temps.
    let left = entries(&out_dir);
    assert!(
        !left.is_empty() && left.iter().all(|(n, _)| is_temp(n)),
        "{left:?}"
    );
    next_run_completes(tmp.path(), &src, &out_dir, &expected);
}

#[test]
fn a_kill_between_the_renames_and_the_folder_sync_leaves_complete_outputs_only() {
    let tmp = tempfile::tempdir().unwrap();
    let src = many_inputs(tmp.path(), 12);
    let expected = reference_outputs(tmp.path(), &src);
    let out_dir = tmp.path().join("out");
    let out = convert_strings(
        tmp.path(),
        &src,
        &out_dir,
        &[("TGSESS_TEST_CRASH_AT", Path::new("batch-renamed"))],
    );
    assert!(killed(&out), "{:?} {}", out.status, stderr(&out));
    assert!(absent_or_complete(&out_dir, &expected) >= 1);
    next_run_completes(tmp.path(), &src, &out_dir, &expected);
}

#[test]
fn a_kill_at_any_step_of_a_batch_leaves_each_output_absent_or_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let src = many_inputs(tmp.path(), 10);
    let expected = reference_outputs(tmp.path(), &src);
    let mut step = 1;
    loop {
        let out_dir = tmp.path().join(format!("out{step}"));
        let at = PathBuf::from(format!("#{step}"));
        let out = convert_strings(tmp.path(), &src, &out_dir, &[("TGSESS_TEST_CRASH_AT", &at)]);
        if out.status.success() {
            break;
        }
        assert!(
            killed(&out),
            "step {step}: {:?} {}",
            out.status,
            stderr(&out)
        );
        next_run_completes(tmp.path(), &src, &out_dir, &expected);
        step += 1;
        assert!(step < 500, "the run never completes");
    }
    // Each of the 10 outputs has at least its temp, fill, sync and rename steps.
    assert!(
        step > 40,
        "only {step} steps: the walk missed the batch's steps"
    );
}
