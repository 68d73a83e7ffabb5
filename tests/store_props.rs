//! Property tests of every string parser: arbitrary input never panics and never echoes the
//! input in an error, and every session a format can hold round-trips exactly.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use proptest::prelude::*;
use tgsess::secret::AuthKey;
use tgsess::store::{self, Format, PyrogramStringLayout, SelfUser, Session};

/// Cases per property: the suite's default, or `PROPTEST_CASES` for long fuzzing runs.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key() -> impl Strategy<Value = AuthKey> {
    prop::collection::vec(any::<u8>(), 256).prop_map(|v| AuthKey::from_slice(&v).unwrap())
}

fn nonzero_key() -> impl Strategy<Value = AuthKey> {
    key().prop_filter("Telethon reads an all-zero key as no key", |k| {
        !k.is_all_zero()
    })
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("\\PC{0,20}")
}

/// Any session the model can hold.
fn session() -> impl Strategy<Value = Session> {
    (
        1..=255i32,
        prop::collection::btree_map(
            1..=255i32,
            (
                prop::option::of(any::<u32>()),
                prop::option::of(any::<u128>()),
                prop::option::of(any::<u16>()),
                prop::option::of(key()),
            ),
            0..4,
        ),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<i32>()),
        prop::option::of(any::<bool>()),
        prop::option::of((opt_text(), opt_text(), opt_text(), opt_text())),
    )
        .prop_map(|(dc, dcs, user_id, is_bot, api_id, test_mode, user)| {
            let mut s = Session::new(dc);
            for (id, (v4, v6, port, key)) in dcs {
                let e = s.dc_mut(id);
                e.ipv4 = v4.map(Ipv4Addr::from);
                e.ipv6 = v6.map(Ipv6Addr::from);
                e.port = port;
                e.auth_key = key;
            }
            s.user_id = user_id;
            s.is_bot = is_bot;
            s.api_id = api_id;
            s.test_mode = test_mode;
            s.user = user
                .map(|(first_name, last_name, username, phone)| SelfUser {
                    first_name,
                    last_name,
                    username,
                    phone,
                })
                .filter(|u| !u.is_empty());
            s
        })
}

fn assert_error_hides_input(input: &str) {
    if let Err(e) = store::parse_string(input, "input") {
        let msg = e.to_string();
        if input.len() >= 16 {
            assert!(!msg.contains(input), "error echoes the input: {msg}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        assert_error_hides_input(&text);
    }

    #[test]
    fn arbitrary_bytes_in_every_layout_length_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 255..280),
        prefix in prop::sample::select(vec!["", "1", "tgsess:1:"]),
        padded in any::<bool>(),
    ) {
        let b64 = if padded {
            base64::engine::general_purpose::URL_SAFE.encode(&bytes)
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
        };
        assert_error_hides_input(&format!("{prefix}{b64}"));
    }

    #[test]
    fn tgsess_string_round_trips_every_session(s in session()) {
        let text = store::encode_string(&s, Format::TgsessString).unwrap();
        let back = store::parse_string(&text, "t").unwrap();
        prop_assert_eq!(back.format, Format::TgsessString);
        prop_assert_eq!(&back.session, &s);
        prop_assert_eq!(store::encode_string(&back.session, Format::TgsessString).unwrap(), text);
    }

    #[test]
    fn mutated_tgsess_strings_are_rejected_or_exact(s in session(), at in any::<prop::sample::Index>(), c in prop::char::range('0', 'z')) {
        let text = store::encode_string(&s, Format::TgsessString).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let i = at.index(chars.len());
        chars[i] = c;
        let mutated: String = chars.into_iter().collect();
        if let Ok(back) = store::parse_string(&mutated, "m") {
            // Only a no-op change (same char, or equivalent trailing bits) may parse.
            prop_assert_eq!(back.session, s);
        }
    }

    #[test]
    fn telethon_string_round_trips(dc in 1..=255i32, v6 in any::<bool>(), v4a in any::<u32>(), v6a in any::<u128>(), port in any::<u16>(), k in nonzero_key()) {
        let mut s = Session::new(dc);
        let h = s.home_mut();
        if v6 { h.ipv6 = Some(Ipv6Addr::from(v6a)) } else { h.ipv4 = Some(Ipv4Addr::from(v4a)) }
        h.port = Some(port);
        h.auth_key = Some(k);
        let text = store::encode_string(&s, Format::TelethonString).unwrap();
        prop_assert_eq!(text.len(), if v6 { 369 } else { 353 });
        let back = store::parse_string(&text, "t").unwrap();
        prop_assert_eq!(back.format, Format::TelethonString);
        prop_assert_eq!(&back.session, &s);
    }

    #[test]
    fn pyrogram_string_round_trips(dc in 1..=255i32, api in any::<i32>(), test in any::<bool>(), user in any::<i64>(), bot in any::<bool>(), k in key()) {
        let mut s = Session::new(dc);
        s.home_mut().auth_key = Some(k);
        s.api_id = Some(api);
        s.test_mode = Some(test);
        s.user_id = Some(user);
        s.is_bot = Some(bot);
        let text = store::encode_string(&s, Format::PyrogramString(PyrogramStringLayout::V2)).unwrap();
        prop_assert_eq!(text.len(), 362);
        let back = store::parse_string(&text, "p").unwrap();
        prop_assert_eq!(back.format, Format::PyrogramString(PyrogramStringLayout::V2));
        prop_assert_eq!(&back.session, &s);
    }
}

fn sqlite_fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "session"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    /// Damaged library files (flipped bytes, cut short) give an error or a session, never a panic,
    /// and an error never shows key bytes.
    #[test]
    fn damaged_sqlite_files_never_panic(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let files = sqlite_fixtures();
        let mut bytes = files[which.index(files.len())].clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("fuzzed.session");
        std::fs::write(&path, &bytes).unwrap();
        match store::read_file(&path) {
            Ok(loaded) => {
                // Whatever was read can be written back out in its own format.
                let _ = store::inspect::to_json(&loaded, false);
            }
            Err(e) => prop_assert!(!e.to_string().contains("000102030405060708090a0b")),
        }
    }
}
