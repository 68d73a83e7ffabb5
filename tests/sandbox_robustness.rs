//! Misbehaving connections cost only themselves: random bytes, unknown auth keys, bad
//! ciphertext, oversized, truncated and corrupted frames, half-open connections. Also the
//! intermediate and abridged transports, driven by grammers' own MTP and transport code.

mod sandbox_support;

use std::time::Duration;

use grammers_client::tl::{self, Deserializable, Serializable};
use grammers_crypto::DequeBuffer;
use grammers_mtproto::mtp::{Deserialization, Encrypted, Mtp};
use grammers_mtproto::transport::{self, Abridged, Full, Intermediate, Transport};
use sandbox_support::*;
use tgsess::sandbox::{SANDBOX_API_ID, Sandbox, SandboxConfig, Tuning};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match within("server closes", stream.read(&mut buf)).await {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    b
}

fn full_frame(payload: &[u8]) -> Vec<u8> {
    let mut t = Full::new();
    let mut buf = DequeBuffer::with_capacity(payload.len() + 16, 8);
    buf.extend(payload.iter().copied());
    t.pack(&mut buf);
    buf[..].to_vec()
}

/// A request through grammers' MTP over a given transport; returns the result body.
async fn raw_call<T: Transport>(
    addr: std::net::SocketAddr,
    key: [u8; 256],
    mut transport: T,
    request: &[u8],
) -> Result<Vec<u8>, tl::types::RpcError> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut mtp = Encrypted::build().finish(key);
    let mut buf = DequeBuffer::with_capacity(request.len() + 256, 128);
    mtp.push(&mut buf, request).expect("request fits");
    mtp.finalize(&mut buf);
    transport.pack(&mut buf);
    stream.write_all(&buf[..]).await.unwrap();
    let mut incoming = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = within("server answers", stream.read(&mut chunk))
            .await
            .unwrap();
        assert!(n > 0, "server closed the connection");
        incoming.extend_from_slice(&chunk[..n]);
        loop {
            match transport.unpack(&mut incoming) {
                Ok(offset) => {
                    let mut payload = incoming[offset.data_range.clone()].to_vec();
                    incoming.drain(..offset.next_offset);
                    for d in mtp.deserialize(&mut payload).unwrap() {
                        match d {
                            Deserialization::RpcResult(r) => return Ok(r.body),
                            Deserialization::RpcError(e) => return Err(e.error),
                            _ => {}
                        }
                    }
                }
                Err(transport::Error::MissingBytes) => break,
                Err(e) => panic!("transport error {e}"),
            }
        }
    }
}

fn get_config_request() -> Vec<u8> {
    tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id: SANDBOX_API_ID,
            device_model: "raw".into(),
            system_version: "1".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: tl::functions::help::GetConfig {},
        },
    }
    .to_bytes()
}

#[tokio::test]
async fn intermediate_abridged_and_full_transports_answer() {
    let sb = seeded().await;
    // grammers' abridged reader takes any short frame whose first 4 bytes read as a negative
    // i32 for a transport error, and those bytes are the auth_key_id: use a key for which
    // they are positive (Telegram's own keys have the same quirk with this client).
    let key = loop {
        let session = sb.new_session(4).unwrap();
        let key = session.auth_key().unwrap().clone();
        if key.key_id()[3] < 0x80 {
            break *key.reveal();
        }
    };
    let addr = sb.dc_addr(4);
    for (name, body) in [
        (
            "abridged",
            raw_call(addr, key, Abridged::new(), &get_config_request())
                .await
                .unwrap(),
        ),
        (
            "intermediate",
            raw_call(addr, key, Intermediate::new(), &get_config_request())
                .await
                .unwrap(),
        ),
        (
            "full",
            raw_call(addr, key, Full::new(), &get_config_request())
                .await
                .unwrap(),
        ),
    ] {
        let tl::enums::Config::Config(config) = tl::enums::Config::from_bytes(&body).unwrap();
        assert_eq!(config.this_dc, 4, "{name}");
        assert_eq!(config.dc_options.len(), 5, "{name}");
    }
    // Telethon's wrapping: invokeWithLayer(229, invokeWithoutUpdates(initConnection(...))).
    let telethon_style = tl::functions::InvokeWithLayer {
        layer: 229,
        query: tl::functions::InvokeWithoutUpdates {
            query: tl::functions::InitConnection {
                api_id: SANDBOX_API_ID,
                device_model: "telethon-like".into(),
                system_version: "1".into(),
                app_version: "1.45".into(),
                system_lang_code: "en".into(),
                lang_pack: String::new(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: tl::functions::help::GetNearestDc {},
            },
        },
    }
    .to_bytes();
    let body = raw_call(addr, key, Intermediate::new(), &telethon_style)
        .await
        .unwrap();
    let tl::enums::NearestDc::Dc(nearest) = tl::enums::NearestDc::from_bytes(&body).unwrap();
    assert_eq!(nearest.this_dc, 4);
    let ping = tl::functions::Ping { ping_id: 77 }.to_bytes();
    let pong = raw_call(addr, key, Intermediate::new(), &ping)
        .await
        .unwrap();
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&pong).unwrap();
    assert_eq!(pong.ping_id, 77);
    // Methods the sandbox lacks get an RPC error, not a dropped connection.
    let unknown = tl::functions::contacts::GetContacts { hash: 0 }.to_bytes();
    let err = raw_call(addr, key, Abridged::new(), &unknown)
        .await
        .unwrap_err();
    assert_eq!(
        (err.error_code, err.error_message.as_str()),
        (400, "INPUT_METHOD_INVALID")
    );
    sb.stop().await;
}

#[tokio::test]
async fn unknown_keys_and_bad_ciphertext_get_404_in_each_framing() {
    let sb = seeded().await;
    let addr = sb.dc_addr(2);
    let minus_404 = (-404i32).to_le_bytes();

    // Full: the code three times, then close.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&full_frame(&random_bytes(24 + 64)))
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut s).await, minus_404.repeat(3));

    // Intermediate: a normal frame holding the code.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut wire = vec![0xee; 4];
    wire.extend(88u32.to_le_bytes());
    wire.extend(random_bytes(88));
    s.write_all(&wire).await.unwrap();
    let mut expected = 4u32.to_le_bytes().to_vec();
    expected.extend(minus_404);
    assert_eq!(read_until_closed(&mut s).await, expected);

    // Abridged.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut wire = vec![0xef, 22];
    wire.extend(random_bytes(88));
    s.write_all(&wire).await.unwrap();
    let mut expected = vec![1u8];
    expected.extend(minus_404);
    assert_eq!(read_until_closed(&mut s).await, expected);

    // A key of another DC, and a known key with garbage after its id.
    let dc4_key = sb.new_session(4).unwrap().auth_key().unwrap().clone();
    let mut forged = dc4_key.key_id().to_vec();
    forged.extend(random_bytes(16 + 48));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&full_frame(&forged)).await.unwrap();
    assert_eq!(read_until_closed(&mut s).await, minus_404.repeat(3));
    let dc2_key = sb.new_session(2).unwrap().auth_key().unwrap().clone();
    let mut garbage = dc2_key.key_id().to_vec();
    garbage.extend(random_bytes(16 + 48));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&full_frame(&garbage)).await.unwrap();
    assert_eq!(read_until_closed(&mut s).await, minus_404.repeat(3));

    // The server keeps serving real clients.
    let tc = phone_login(&sb, "9996621111", 2).await;
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn garbage_oversized_truncated_and_corrupt_frames_close_only_their_connection() {
    let sb = Sandbox::start_tuned(
        SandboxConfig {
            state_dir: None,
            seed: true,
            base_port: 0,
        },
        Tuning {
            idle_timeout: Duration::from_millis(500),
            ..Tuning::default()
        },
    )
    .await
    .unwrap();
    let addr = sb.dc_addr(2);

    // A logged-in client before the abuse...
    let tc = phone_login(&sb, "9996621111", 2).await;

    let mut bad = Vec::new();
    // Random bytes (obfuscated-looking first bytes).
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut junk = random_bytes(256);
    junk[0] = 0x12;
    junk[4] = 0x34;
    s.write_all(&junk).await.unwrap();
    bad.push(s);
    // Oversized Full and intermediate frames.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut wire = (64 * 1024 * 1024i32).to_le_bytes().to_vec();
    wire.extend([0u8; 4]);
    s.write_all(&wire).await.unwrap();
    bad.push(s);
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut wire = vec![0xee; 4];
    wire.extend(0x7fff_fff0u32.to_le_bytes());
    s.write_all(&wire).await.unwrap();
    bad.push(s);
    // Corrupt CRC.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut frame = full_frame(&random_bytes(88));
    let n = frame.len();
    frame[n - 1] ^= 0x55;
    s.write_all(&frame).await.unwrap();
    bad.push(s);
    // Truncated frame, then the client stops writing.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let frame = full_frame(&random_bytes(88));
    s.write_all(&frame[..40]).await.unwrap();
    s.shutdown().await.unwrap();
    bad.push(s);
    // Half-open: half a frame, then silence with the socket left open.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&frame[..40]).await.unwrap();
    bad.push(s);
    // Connected and silent.
    bad.push(TcpStream::connect(addr).await.unwrap());

    for (i, mut s) in bad.into_iter().enumerate() {
        let got = read_until_closed(&mut s).await;
        assert!(got.is_empty(), "connection {i} got {got:?}");
    }

    // ...and after it, everyone else is still served.
    let tc2 = phone_login(&sb, "9996641111", 4).await;
    assert!(within("tc2", tc2.client.is_authorized()).await.unwrap());
    // The first client may have been closed for idling; it reconnects with its key.
    assert!(within("tc", tc.client.is_authorized()).await.unwrap());
    tc2.quit().await;
    tc.quit().await;
    sb.stop().await;
}
