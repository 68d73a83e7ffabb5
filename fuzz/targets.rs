//! The fuzz targets: one per parser of untrusted bytes. Each makes an input from its seeds
//! (structure-aware where a checksum or base64 would stop plain mutations at the door) and
//! runs it through the same code path the app uses, with round-trip checks where a parser
//! has a writer.

use std::path::Path;

use rusqlite::Connection;
use tgsess::sandbox::{service, transport};
use tgsess::store::convert::{Overrides, prepare};
use tgsess::store::formats::{b64, pyrogram_string, telethon_string, tgsess_string};
use tgsess::store::{self, Format, PyrogramStringLayout};

use crate::mutate::{Rng, mutate};

pub struct Target {
    pub name: &'static str,
    pub about: &'static str,
    /// Makes one input from the seeds.
    pub generate: fn(&mut Rng, &[Vec<u8>]) -> Vec<u8>,
    /// Runs one input; a panic is a finding.
    pub execute: fn(&[u8]),
    /// The seed corpus (built from tests/fixtures).
    pub seeds: fn() -> Vec<Vec<u8>>,
}

pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "tgsess-string",
            about: "tgsess:1: strings (payload mutated under a valid CRC, then re-encoded)",
            generate: gen_tgsess,
            execute: exec_tgsess,
            seeds: || string_seeds(Format::TgsessString),
        },
        Target {
            name: "telethon-string",
            about: "Telethon StringSession, IPv4 and IPv6 lengths",
            generate: gen_telethon,
            execute: exec_telethon,
            seeds: || string_seeds(Format::TelethonString),
        },
        Target {
            name: "pyrogram-string-old32",
            about: "Pyrogram strings of the old 32-bit user id layout (351 characters)",
            generate: |rng, seeds| gen_pyrogram(rng, seeds, 263),
            execute: exec_pyrogram,
            seeds: || pyrogram_seeds(263),
        },
        Target {
            name: "pyrogram-string-old64",
            about: "Pyrogram strings of the old 64-bit user id layout (356 characters)",
            generate: |rng, seeds| gen_pyrogram(rng, seeds, 267),
            execute: exec_pyrogram,
            seeds: || pyrogram_seeds(267),
        },
        Target {
            name: "pyrogram-string-v2",
            about: "Pyrogram strings of the current layout (362 characters, padded 364)",
            generate: |rng, seeds| gen_pyrogram(rng, seeds, 271),
            execute: exec_pyrogram,
            seeds: || pyrogram_seeds(271),
        },
        Target {
            name: "session-string",
            about: "store::parse_string (format detection, every layout) and the inspect text",
            generate: gen_raw,
            execute: exec_any_string,
            seeds: all_string_seeds,
        },
        Target {
            name: "sqlite-bytes",
            about: "SQLite files as bytes, through the path of `inspect -`, then convert",
            generate: gen_sqlite_bytes,
            execute: exec_sqlite_bytes,
            seeds: sqlite_seeds,
        },
        Target {
            name: "sqlite-pages",
            about: "the listing's page reader of SQLite files: declines, or reads what SQLite reads",
            generate: gen_sqlite_bytes,
            execute: exec_sqlite_pages,
            seeds: sqlite_seeds,
        },
        Target {
            name: "sqlite-values",
            about: "valid SQLite sessions with hostile values, types and rows (SQL edits)",
            generate: gen_sqlite_values,
            execute: exec_sqlite_values,
            seeds: sqlite_seeds,
        },
        Target {
            name: "sandbox-frames",
            about: "the sandbox's transport detection and framing (Full, intermediate, abridged)",
            generate: gen_raw,
            execute: exec_frames,
            seeds: frame_seeds,
        },
        Target {
            name: "sandbox-envelope",
            about: "the sandbox's decrypted message envelope, containers and gzip_packed",
            generate: gen_raw,
            execute: exec_envelope,
            seeds: envelope_seeds,
        },
    ]
}

const MAX_INPUT: usize = 8 * 1024;

// ---------------------------------------------------------------------------------------------
// Seeds

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions")
}

/// Every fixture that reads, as a session.
fn fixture_sessions() -> Vec<(String, store::Loaded)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures()).expect("tests/fixtures/sessions") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            continue;
        }
        if let Ok(loaded) = store::read_file(&path) {
            out.push((path.display().to_string(), loaded));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every fixture converted to `format` (the fixtures' own strings in that format included).
fn string_seeds(format: Format) -> Vec<Vec<u8>> {
    let overrides = Overrides {
        api_id: Some(1),
        user_id: Some(1),
        ..Overrides::default()
    };
    let mut out = Vec::new();
    for (_, loaded) in fixture_sessions() {
        if let Ok((session, _)) = prepare(&loaded.session, format, &overrides)
            && let Ok(text) = store::encode_string(&session, format)
        {
            out.push(text.into_bytes());
        }
    }
    out
}

fn pyrogram_seeds(payload_len: usize) -> Vec<Vec<u8>> {
    string_seeds(Format::PyrogramString(PyrogramStringLayout::V2))
        .iter()
        .filter_map(|s| b64::decode_any(std::str::from_utf8(s).ok()?).ok())
        .map(|mut bytes| {
            // v2 is dc | api_id(4) | test | key(256) | user_id(8) | bot; the old layouts drop
            // the api_id and (old32) half of the user id.
            if payload_len < 271 {
                bytes.drain(1..5);
            }
            if payload_len == 263 {
                bytes.drain(258..262);
            }
            b64::encode_url_unpadded(&bytes).into_bytes()
        })
        .collect()
}

fn all_string_seeds() -> Vec<Vec<u8>> {
    let mut out = string_seeds(Format::TgsessString);
    out.extend(string_seeds(Format::TelethonString));
    out.extend(pyrogram_seeds(263));
    out.extend(pyrogram_seeds(267));
    out.extend(pyrogram_seeds(271));
    out
}

fn sqlite_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "session") {
            out.push(std::fs::read(&path).unwrap());
        }
    }
    // tgsess's own schema, which no library fixture has.
    let (_, first) = fixture_sessions().remove(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.session");
    store::write_file(&path, &first.session, Format::TgsessSqlite).unwrap();
    out.push(std::fs::read(&path).unwrap());
    out.sort();
    // Smallest pages, no free space: most edits then land on bytes that mean something, and
    // each run copies a few KiB instead of 40.
    out.iter().map(|image| shrink(image)).collect()
}

fn shrink(image: &[u8]) -> Vec<u8> {
    let conn = open_image(image, false).expect("a fixture opens");
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;")
        .expect("vacuum");
    conn.serialize(rusqlite::MAIN_DB)
        .expect("serialize")
        .to_vec()
}

/// Tables and their columns of each SQLite seed (what `sqlite-values` edits).
fn seed_schemas(seeds: &[Vec<u8>]) -> Vec<Tables> {
    seeds
        .iter()
        .map(|image| {
            let conn = open_image(image, true).expect("seeds open");
            let tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            tables
                .into_iter()
                .map(|t| {
                    let columns = store::formats::sqlite_detect::columns(&conn, &t).unwrap();
                    (t, columns)
                })
                .collect()
        })
        .collect()
}

fn frame_seeds() -> Vec<Vec<u8>> {
    let payload: Vec<u8> = (0u8..64).collect();
    let mut out = Vec::new();
    let mut full = transport::Framing::Full {
        recv_seq: 0,
        send_seq: 0,
    };
    out.push([full.encode(&payload), full.encode(&payload[..16])].concat());
    for (tag, mut framing) in [
        (vec![0xee; 4], transport::Framing::Intermediate),
        (vec![0xdd; 4], transport::Framing::PaddedIntermediate),
        (vec![0xef], transport::Framing::Abridged),
    ] {
        out.push([tag, framing.encode(&payload), framing.encode(&payload[..8])].concat());
    }
    out
}

fn envelope_seeds() -> Vec<Vec<u8>> {
    let mut seq = service::Outbox::new();
    let ping = 0x7abe_77ecu32.to_le_bytes().to_vec();
    let single = service::plaintext(
        1,
        2,
        &seq.message([ping.clone(), vec![0; 8]].concat(), false, true),
    );
    // A container of two messages, one of them gzip_packed.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &[ping.clone(), vec![1; 8]].concat()).unwrap();
    let packed = gz.finish().unwrap();
    let mut gz_body = service::GZIP_PACKED_ID.to_le_bytes().to_vec();
    tl_bytes(&mut gz_body, &packed);
    let mut container = service::MSG_CONTAINER_ID.to_le_bytes().to_vec();
    container.extend_from_slice(&2i32.to_le_bytes());
    for body in [[ping, vec![2; 8]].concat(), gz_body] {
        container.extend_from_slice(&7i64.to_le_bytes());
        container.extend_from_slice(&1i32.to_le_bytes());
        container.extend_from_slice(&(body.len() as i32).to_le_bytes());
        container.extend_from_slice(&body);
    }
    let boxed = service::plaintext(1, 2, &seq.message(container, false, false));
    // Encryption pads the plaintext by 12 to 1024 bytes.
    [single, boxed]
        .into_iter()
        .map(|p| [p, vec![0; 16]].concat())
        .collect()
}

/// TL `bytes`: length prefix, data, padding to 4.
fn tl_bytes(out: &mut Vec<u8>, data: &[u8]) {
    if data.len() < 254 {
        out.push(data.len() as u8);
    } else {
        out.push(254);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Generators

fn pick_two<'a>(rng: &mut Rng, seeds: &'a [Vec<u8>]) -> (Vec<u8>, &'a [u8]) {
    let first = rng.pick(seeds).clone();
    (first, rng.pick(seeds).as_slice())
}

fn gen_raw(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let (mut data, other) = pick_two(rng, seeds);
    mutate(rng, &mut data, other, MAX_INPUT);
    data
}

/// Mutates the bytes under base64 (`unwrap`/`wrap`) most of the time, the text otherwise.
fn gen_encoded(
    rng: &mut Rng,
    seeds: &[Vec<u8>],
    unwrap: impl Fn(&str) -> Option<Vec<u8>>,
    wrap: impl Fn(&mut Rng, Vec<u8>) -> String,
) -> Vec<u8> {
    let (seed, other) = pick_two(rng, seeds);
    if rng.chance(70)
        && let Some(mut bytes) = std::str::from_utf8(&seed).ok().and_then(&unwrap)
    {
        let other_bytes = std::str::from_utf8(other)
            .ok()
            .and_then(&unwrap)
            .unwrap_or_default();
        // Keep the length most of the time: the layouts are told apart by length.
        if rng.chance(60) {
            let len = bytes.len();
            mutate(rng, &mut bytes, &other_bytes, MAX_INPUT);
            bytes.resize(len, 0);
        } else {
            mutate(rng, &mut bytes, &other_bytes, MAX_INPUT);
        }
        return wrap(rng, bytes).into_bytes();
    }
    let mut data = seed;
    mutate(rng, &mut data, other, MAX_INPUT);
    data
}

fn gen_tgsess(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let unwrap = |text: &str| {
        let mut all = b64::decode_any(text.strip_prefix(tgsess_string::PREFIX)?).ok()?;
        all.truncate(all.len().checked_sub(4)?);
        Some(all)
    };
    let wrap = |rng: &mut Rng, mut payload: Vec<u8>| {
        let crc = if rng.chance(90) {
            crc32fast::hash(&payload)
        } else {
            rng.next() as u32
        };
        payload.extend_from_slice(&crc.to_be_bytes());
        format!(
            "{}{}",
            tgsess_string::PREFIX,
            b64::encode_url_unpadded(&payload)
        )
    };
    gen_encoded(rng, seeds, unwrap, wrap)
}

fn gen_telethon(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let unwrap = |text: &str| b64::decode_any(text.strip_prefix('1')?).ok();
    let wrap = |rng: &mut Rng, bytes: Vec<u8>| {
        let body = b64::encode_url_padded(&bytes);
        let version = if rng.chance(95) { '1' } else { '2' };
        format!("{version}{body}")
    };
    gen_encoded(rng, seeds, unwrap, wrap)
}

fn gen_pyrogram(rng: &mut Rng, seeds: &[Vec<u8>], _payload_len: usize) -> Vec<u8> {
    let unwrap = |text: &str| b64::decode_any(text).ok();
    let wrap = |rng: &mut Rng, bytes: Vec<u8>| {
        if rng.chance(10) {
            b64::encode_url_padded(&bytes)
        } else {
            b64::encode_url_unpadded(&bytes)
        }
    };
    gen_encoded(rng, seeds, unwrap, wrap)
}

fn gen_sqlite_bytes(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let (mut data, other) = pick_two(rng, seeds);
    // Edits inside the file (a few bytes) find more than length changes, which SQLite
    // mostly refuses at the header.
    let len = data.len();
    mutate(rng, &mut data, other, 1 << 20);
    if rng.chance(80) {
        data.resize(len, 0);
    }
    data
}

/// An input of `sqlite-values`: one seed index byte, then an SQL script run on that seed.
/// The tables of one seed database, each with its column names.
type Tables = Vec<(String, Vec<String>)>;

fn gen_sqlite_values(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    thread_local! {
        static SCHEMAS: std::cell::OnceCell<Vec<Tables>> = const { std::cell::OnceCell::new() };
    }
    let index = rng.below(seeds.len());
    let mut script = String::new();
    SCHEMAS.with(|cell| {
        let tables = &cell.get_or_init(|| seed_schemas(seeds))[index];
        for _ in 0..1 + rng.below(4) {
            let (table, columns) = rng.pick(tables);
            let column = rng.pick(columns);
            let statement = match rng.below(10) {
                0 => format!("DELETE FROM \"{table}\";"),
                1 => format!("INSERT INTO \"{table}\" SELECT * FROM \"{table}\";"),
                2 => format!("DROP TABLE \"{table}\";"),
                _ => format!("UPDATE \"{table}\" SET \"{column}\" = {};", sql_value(rng)),
            };
            script.push_str(&statement);
        }
    });
    let mut out = vec![index as u8];
    out.extend_from_slice(script.as_bytes());
    out
}

/// A random SQL literal of any storage class.
fn sql_value(rng: &mut Rng) -> String {
    const INTS: [i64; 12] = [
        0,
        1,
        -1,
        2,
        5,
        6,
        255,
        256,
        65536,
        i32::MAX as i64,
        i64::MAX,
        i64::MIN,
    ];
    match rng.below(7) {
        0 => "NULL".into(),
        1 | 2 => rng.pick(&INTS).to_string(),
        3 => format!("{}", rng.next() as i64),
        4 => format!("{:e}", f64::from_bits(rng.next())).replace("NaN", "0.5"),
        5 => {
            let len = *rng.pick(&[0usize, 1, 4, 16, 255, 256, 257, 300]);
            format!("X'{}'", hex::encode(rng.bytes(len)))
        }
        _ => {
            let options = [
                "''",
                "'1.2.3.4'",
                "'::1'",
                "'256.1.1.1'",
                "'abc'",
                "'\u{1b}]0;x\u{7}'",
                "'999999999999999999999'",
                "'-5'",
            ];
            rng.pick(&options).to_string()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Executors

fn exec_tgsess(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if let Ok(session) = tgsess_string::decode(text) {
        // What tgsess reads it can write, and writing is stable from then on.
        let once = tgsess_string::encode(&session).expect("a decoded session encodes");
        let again = tgsess_string::decode(&once).expect("its encoding decodes");
        assert_eq!(tgsess_string::encode(&again).unwrap(), once, "round trip");
    }
}

fn exec_telethon(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if let Ok(session) = telethon_string::decode(text)
        && let Ok(once) = telethon_string::encode(&session)
    {
        let again = telethon_string::decode(&once).expect("its encoding decodes");
        assert_eq!(telethon_string::encode(&again).unwrap(), once, "round trip");
    }
}

fn exec_pyrogram(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if let Ok((_, session)) = pyrogram_string::decode(text)
        && let Ok(once) = pyrogram_string::encode(&session)
    {
        let (_, again) = pyrogram_string::decode(&once).expect("its encoding decodes");
        assert_eq!(pyrogram_string::encode(&again).unwrap(), once, "round trip");
    }
}

fn exec_any_string(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    if let Ok(loaded) = store::parse_string(&text, "fuzz") {
        exercise(&loaded);
    }
}

fn exec_sqlite_bytes(input: &[u8]) {
    if let Ok(loaded) = store::read_sqlite_bytes(input, "standard input") {
        exercise(&loaded);
    }
}

fn exec_sqlite_pages(input: &[u8]) {
    if let Ok(pages) = store::sqlite_pages::read_bytes(input) {
        let sql = store::read_sqlite_bytes(input, "standard input")
            .expect("the page reader read a file SQLite refuses");
        assert_eq!(pages, sql, "the page reader and SQLite disagree");
    }
}

fn exec_sqlite_values(input: &[u8]) {
    thread_local! {
        // One open database per seed; each run edits it inside a savepoint and rolls back,
        // which is the seed again without paying for a fresh open and schema parse.
        static OPEN: Vec<Connection> = sqlite_seeds()
            .iter()
            .map(|image| open_image(image, false).expect("seeds open"))
            .collect();
    }
    let Some((&index, script)) = input.split_first() else {
        return;
    };
    let Ok(script) = std::str::from_utf8(script) else {
        return;
    };
    OPEN.with(|open| {
        let Some(conn) = open.get(index as usize) else {
            return;
        };
        conn.execute_batch("SAVEPOINT run").expect("savepoint");
        let _ = conn.execute_batch(script);
        let read = store::read_sqlite_connection(conn, Path::new("fuzz"));
        conn.execute_batch("ROLLBACK TO run; RELEASE run")
            .expect("rollback");
        if let Ok(loaded) = read {
            exercise(&loaded);
        }
    });
}

fn exec_frames(input: &[u8]) {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
    }
    RUNTIME.with(|rt| {
        rt.block_on(async {
            let mut reader = transport::FrameReader::new(input);
            for _ in 0..64 {
                match reader.next_payload().await {
                    Ok(payload) => {
                        let _ = tgsess::sandbox::crypto::payload_key_id(&payload);
                    }
                    Err(_) => break,
                }
            }
        })
    });
}

fn exec_envelope(input: &[u8]) {
    if let Ok(envelope) = service::parse_envelope(input)
        && let Some(messages) = service::unpack_messages(&envelope)
    {
        for m in messages {
            let _ = service::constructor_of(&m.body);
        }
    }
}

/// What the app does with a session it read: show it, and convert it to every string format.
/// (The string targets skip it: their few fields reach it through `session-string`.)
fn exercise(loaded: &store::Loaded) {
    let _ = store::inspect::to_text(loaded, true);
    let _ = store::inspect::to_json(loaded, false);
    for format in [
        Format::TgsessString,
        Format::TelethonString,
        Format::PyrogramString(PyrogramStringLayout::V2),
    ] {
        if let Ok((session, _)) = prepare(&loaded.session, format, &Overrides::default()) {
            let _ = store::encode_string(&session, format);
        }
    }
}

fn open_image(bytes: &[u8], read_only: bool) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, bytes, bytes.len(), read_only)?;
    Ok(conn)
}
