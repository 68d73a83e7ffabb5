//! Optional server-side DH: a client that trusts the sandbox's RSA key creates its own auth
//! key (RSA_PAD like grammers/tdlib, and the legacy padding like Telethon), then a grammers
//! client logs in with it.

mod sandbox_support;

use std::sync::Arc;

use grammers_client::tl::{self, Deserializable, Serializable};
use grammers_crypto::DequeBuffer;
use grammers_mtproto::transport::{self, Full, Transport};
use num_bigint::BigUint;
use sandbox_support::*;
use sha1::{Digest, Sha1};
use tgsess::sandbox::rsa::RsaKey;
use tgsess::secret::AuthKey;
use tgsess::store::adapter::{Backend, StoredSession};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Plain {
    stream: TcpStream,
    transport: Full,
    incoming: Vec<u8>,
    msg_id: i64,
}

impl Plain {
    async fn call(&mut self, body: &[u8]) -> Result<Vec<u8>, transport::Error> {
        self.msg_id += 4;
        let mut buf = DequeBuffer::with_capacity(body.len() + 64, 16);
        buf.extend([0u8; 8]);
        buf.extend(self.msg_id.to_le_bytes());
        buf.extend((body.len() as i32).to_le_bytes());
        buf.extend(body.iter().copied());
        self.transport.pack(&mut buf);
        self.stream.write_all(&buf[..]).await.unwrap();
        loop {
            match self.transport.unpack(&mut self.incoming) {
                Ok(off) => {
                    let payload = self.incoming[off.data_range.clone()].to_vec();
                    self.incoming.drain(..off.next_offset);
                    assert_eq!(&payload[..8], &[0u8; 8], "unencrypted answer");
                    return Ok(payload[20..].to_vec());
                }
                Err(transport::Error::MissingBytes) => {
                    let mut chunk = [0u8; 4096];
                    let n = within("dh answer", self.stream.read(&mut chunk))
                        .await
                        .unwrap();
                    assert!(n > 0, "server closed the connection");
                    self.incoming.extend_from_slice(&chunk[..n]);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

/// Runs the three DH steps against `addr`; returns the auth key both sides derived.
async fn create_key(addr: std::net::SocketAddr, rsa: &RsaKey, legacy: bool) -> AuthKey {
    create_key_on(addr, rsa, legacy).await.0
}

/// [`create_key`], keeping the connection open (Telethon goes on on the same one).
async fn create_key_on(addr: std::net::SocketAddr, rsa: &RsaKey, legacy: bool) -> (AuthKey, Plain) {
    let mut c = Plain {
        stream: TcpStream::connect(addr).await.unwrap(),
        transport: Full::new(),
        incoming: Vec::new(),
        msg_id: (tgsess::sandbox::service::unix_now()) << 32,
    };
    let nonce: [u8; 16] = random();
    let answer = c
        .call(&tl::functions::ReqPqMulti { nonce }.to_bytes())
        .await
        .unwrap();
    let tl::enums::ResPq::Pq(res) = tl::enums::ResPq::from_bytes(&answer).unwrap();
    assert_eq!(res.nonce, nonce);
    assert_eq!(res.server_public_key_fingerprints, vec![rsa.fingerprint()]);
    let pq = u64::from_be_bytes(res.pq.clone().try_into().unwrap());
    assert!(pq < 1 << 63, "Telethon reads pq as a signed integer");
    let (p, q) = grammers_crypto::factorize(pq);
    let trim = |v: u64| {
        let b = v.to_be_bytes();
        b[b.iter().position(|x| *x != 0).unwrap()..].to_vec()
    };
    let new_nonce: [u8; 32] = random();
    let inner = tl::enums::PQInnerData::Dc(tl::types::PQInnerDataDc {
        pq: res.pq.clone(),
        p: trim(p),
        q: trim(q),
        nonce,
        server_nonce: res.server_nonce,
        new_nonce,
        dc: 2,
    })
    .to_bytes();
    let encrypted = if legacy {
        let mut m = vec![0u8];
        m.extend(Sha1::digest(&inner));
        m.extend(&inner);
        m.extend(vec![7u8; 256 - m.len()]);
        BigUint::from_bytes_be(&m)
            .modpow(&rsa.e, &rsa.n)
            .to_bytes_be()
    } else {
        let key = grammers_crypto::rsa::Key::new(&rsa.n.to_str_radix(10), &rsa.e.to_str_radix(10))
            .unwrap();
        grammers_crypto::rsa::encrypt_hashed(&inner, &key, &random::<224>())
    };
    let answer = c
        .call(
            &tl::functions::ReqDhParams {
                nonce,
                server_nonce: res.server_nonce,
                p: trim(p),
                q: trim(q),
                public_key_fingerprint: rsa.fingerprint(),
                encrypted_data: encrypted,
            }
            .to_bytes(),
        )
        .await
        .unwrap();
    let tl::enums::ServerDhParams::Ok(ok) = tl::enums::ServerDhParams::from_bytes(&answer).unwrap()
    else {
        panic!("server_DH_params_fail");
    };
    let (key, iv) = grammers_crypto::generate_key_data_from_nonce(&res.server_nonce, &new_nonce);
    let mut plain = ok.encrypted_answer;
    grammers_crypto::aes::ige_decrypt(&mut plain, &key, &iv);
    let mut cursor = tl::Cursor::from_slice(&plain[20..]);
    let tl::enums::ServerDhInnerData::Data(dh) =
        tl::enums::ServerDhInnerData::deserialize(&mut cursor).unwrap();
    assert_eq!(Sha1::digest(&plain[20..20 + cursor.pos()])[..], plain[..20]);
    assert_eq!(dh.g, 3);
    assert_eq!(dh.dh_prime, tgsess::crypto::srp::prime_bytes());
    let prime = BigUint::from_bytes_be(&dh.dh_prime);
    let b = BigUint::from_bytes_be(&random::<256>());
    let g_b = BigUint::from(3u32).modpow(&b, &prime);
    let gab = BigUint::from_bytes_be(&dh.g_a).modpow(&b, &prime);
    let inner = tl::enums::ClientDhInnerData::Data(tl::types::ClientDhInnerData {
        nonce,
        server_nonce: res.server_nonce,
        retry_id: 0,
        g_b: g_b.to_bytes_be(),
    })
    .to_bytes();
    let mut data = Sha1::digest(&inner).to_vec();
    data.extend(&inner);
    data.extend(vec![0u8; (16 - data.len() % 16) % 16]);
    grammers_crypto::aes::ige_encrypt(&mut data, &key, &iv);
    let answer = c
        .call(
            &tl::functions::SetClientDhParams {
                nonce,
                server_nonce: res.server_nonce,
                encrypted_data: data,
            }
            .to_bytes(),
        )
        .await
        .unwrap();
    let tl::enums::SetClientDhParamsAnswer::DhGenOk(gen_ok) =
        tl::enums::SetClientDhParamsAnswer::from_bytes(&answer).unwrap()
    else {
        panic!("expected dh_gen_ok");
    };
    let auth_key = AuthKey::new(tgsess::crypto::srp::pad256(&gab.to_bytes_be()));
    let expected =
        grammers_crypto::AuthKey::from_bytes(*auth_key.reveal()).calc_new_nonce_hash(&new_nonce, 1);
    assert_eq!(gen_ok.new_nonce_hash1, expected);
    (auth_key, c)
}

#[tokio::test]
async fn dh_creates_keys_that_grammers_can_log_in_with() {
    let sb = seeded().await;
    let rsa = sb.rsa_key().unwrap();
    assert!(
        rsa.public_pem()
            .starts_with("-----BEGIN RSA PUBLIC KEY-----")
    );
    for legacy in [false, true] {
        let key = create_key(sb.dc_addr(2), &rsa, legacy).await;
        let mut session = sb.new_session(2).unwrap();
        session.home_mut().auth_key = Some(key);
        let tc = client_for(Arc::new(StoredSession::new(session, Backend::Memory)));
        assert!(
            !within("is_authorized", tc.client.is_authorized())
                .await
                .unwrap()
        );
        let token = within(
            "code",
            tc.client
                .request_login_code("9996621111", tgsess::sandbox::SANDBOX_API_HASH),
        )
        .await
        .unwrap();
        within("sign_in", tc.client.sign_in(&token, "22222"))
            .await
            .unwrap();
        tc.quit().await;
    }
    // The key survives a restart of the same state.
    let dir = tempfile::tempdir().unwrap();
    let config = || tgsess::sandbox::SandboxConfig {
        state_dir: Some(dir.path().to_path_buf()),
        seed: false,
        base_port: 0,
    };
    let a = tgsess::sandbox::Sandbox::start(config()).await.unwrap();
    let fp = a.rsa_key().unwrap().fingerprint();
    a.stop().await;
    let b = tgsess::sandbox::Sandbox::start(config()).await.unwrap();
    assert_eq!(b.rsa_key().unwrap().fingerprint(), fp);
    b.stop().await;
    sb.stop().await;
}

#[tokio::test]
async fn dh_with_wrong_nonces_or_fingerprint_is_refused() {
    let sb = seeded().await;
    let rsa = sb.rsa_key().unwrap();
    let mut c = Plain {
        stream: TcpStream::connect(sb.dc_addr(2)).await.unwrap(),
        transport: Full::new(),
        incoming: Vec::new(),
        msg_id: (tgsess::sandbox::service::unix_now()) << 32,
    };
    let nonce: [u8; 16] = random();
    let answer = c
        .call(&tl::functions::ReqPqMulti { nonce }.to_bytes())
        .await
        .unwrap();
    let tl::enums::ResPq::Pq(res) = tl::enums::ResPq::from_bytes(&answer).unwrap();
    let err = c
        .call(
            &tl::functions::ReqDhParams {
                nonce,
                server_nonce: res.server_nonce,
                p: vec![1],
                q: vec![1],
                public_key_fingerprint: rsa.fingerprint() ^ 1,
                encrypted_data: vec![0; 256],
            }
            .to_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, transport::Error::BadStatus { status: 404 });
    sb.stop().await;
}

/// An encrypted MTProto session (grammers' MTP) on a connection whose key may have just
/// been made by DH on it, as Telethon and Pyrogram do.
struct Secure {
    plain: Plain,
    mtp: grammers_mtproto::mtp::Encrypted,
    updates: Vec<Vec<u8>>,
}

impl Secure {
    fn new(plain: Plain, key: &AuthKey) -> Self {
        Self {
            plain,
            mtp: grammers_mtproto::mtp::Encrypted::build().finish(*key.reveal()),
            updates: Vec::new(),
        }
    }

    /// Sends `request`; grammers' MTP first asks for future salts (and holds requests back
    /// until they arrive), so frames are read until it takes the request.
    async fn send(&mut self, request: &[u8]) {
        use grammers_mtproto::mtp::{Deserialization as D, Mtp};
        loop {
            let mut buf = DequeBuffer::with_capacity(request.len() + 256, 128);
            let pushed = self.mtp.push(&mut buf, request).is_some();
            self.mtp.finalize(&mut buf);
            if !buf.is_empty() {
                self.plain.transport.pack(&mut buf);
                self.plain.stream.write_all(&buf[..]).await.unwrap();
            }
            if pushed {
                return;
            }
            for d in self.read_frame("future salts").await {
                if let D::Update(u) = d {
                    self.updates.push(u);
                }
            }
        }
    }

    /// The messages of the next frame from the server.
    async fn read_frame(&mut self, what: &str) -> Vec<grammers_mtproto::mtp::Deserialization> {
        use grammers_mtproto::mtp::Mtp;
        loop {
            match self.plain.transport.unpack(&mut self.plain.incoming) {
                Ok(off) => {
                    let mut payload = self.plain.incoming[off.data_range.clone()].to_vec();
                    self.plain.incoming.drain(..off.next_offset);
                    return self.mtp.deserialize(&mut payload).unwrap();
                }
                Err(transport::Error::MissingBytes) => {
                    let mut chunk = [0u8; 8192];
                    let n = within(what, self.plain.stream.read(&mut chunk))
                        .await
                        .unwrap();
                    assert!(
                        n > 0,
                        "server closed the connection while waiting for {what}"
                    );
                    self.plain.incoming.extend_from_slice(&chunk[..n]);
                }
                Err(e) => panic!("transport error {e}"),
            }
        }
    }

    /// Reads frames until `done` picks something out of them.
    async fn read_until<T>(
        &mut self,
        what: &str,
        mut done: impl FnMut(&mut Vec<Vec<u8>>, grammers_mtproto::mtp::Deserialization) -> Option<T>,
    ) -> T {
        loop {
            for d in self.read_frame(what).await {
                if let Some(out) = done(&mut self.updates, d) {
                    return out;
                }
            }
        }
    }

    async fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, String> {
        use grammers_mtproto::mtp::Deserialization as D;
        self.send(request).await;
        self.read_until("rpc result", |updates, d| match d {
            D::RpcResult(r) => Some(Ok(r.body)),
            D::RpcError(e) => Some(Err(e.error.error_message)),
            D::Update(u) => {
                updates.push(u);
                None
            }
            _ => None,
        })
        .await
    }

    async fn next_update(&mut self) -> Vec<u8> {
        use grammers_mtproto::mtp::Deserialization as D;
        if !self.updates.is_empty() {
            return self.updates.remove(0);
        }
        self.read_until("an update", |_, d| match d {
            D::Update(u) => Some(u),
            _ => None,
        })
        .await
    }
}

/// invokeWithLayer(layer, initConnection(query)), as every client wraps its first request.
fn first_request(layer: i32, query: impl Serializable) -> Vec<u8> {
    struct Raw(Vec<u8>);
    impl Serializable for Raw {
        fn serialize(&self, buf: &mut impl Extend<u8>) {
            buf.extend(self.0.iter().copied());
        }
    }
    tl::functions::InvokeWithLayer {
        layer,
        query: tl::functions::InitConnection {
            api_id: tgsess::sandbox::SANDBOX_API_ID,
            device_model: "dh test".into(),
            system_version: "1".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: Raw(query.to_bytes()),
        },
    }
    .to_bytes()
}

fn export_login_token() -> tl::functions::auth::ExportLoginToken {
    tl::functions::auth::ExportLoginToken {
        api_id: tgsess::sandbox::SANDBOX_API_ID,
        api_hash: tgsess::sandbox::SANDBOX_API_HASH.into(),
        except_ids: vec![],
    }
}

/// Telethon's qr_login on the connection that just made its key: export, another device
/// accepts, updateLoginToken arrives, re-export logs in (in the client's layer, 181).
#[tokio::test]
async fn qr_login_reaches_a_connection_whose_key_was_made_by_dh_on_it() {
    let sb = seeded().await;
    let rsa = sb.rsa_key().unwrap();
    let (key, plain) = create_key_on(sb.dc_addr(2), &rsa, true).await;
    let dh_keyed = Secure::new(plain, &key);
    let provisioned = {
        let session = sb.new_session(2).unwrap();
        let key = session.auth_key().unwrap().clone();
        let plain = Plain {
            stream: TcpStream::connect(sb.dc_addr(2)).await.unwrap(),
            transport: Full::new(),
            incoming: Vec::new(),
            msg_id: 0,
        };
        Secure::new(plain, &key)
    };
    for (name, mut conn) in [("dh key", dh_keyed), ("new-session key", provisioned)] {
        let answer = conn
            .call(&first_request(181, export_login_token()))
            .await
            .unwrap();
        let tl::enums::auth::LoginToken::Token(t) =
            tl::enums::auth::LoginToken::from_bytes(&answer).unwrap()
        else {
            panic!("{name}: expected a token");
        };
        let url = format!(
            "tg://login?token={}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &t.token)
        );
        sb.accept_qr("+9996621111", &url).unwrap();
        let update = within("updateLoginToken", conn.next_update()).await;
        let tl::enums::Updates::UpdateShort(short) =
            tl::enums::Updates::from_bytes(&update).unwrap()
        else {
            panic!("{name}: expected updateShort");
        };
        assert!(
            matches!(short.update, tl::enums::Update::LoginToken),
            "{name}"
        );
        let answer = conn.call(&export_login_token().to_bytes()).await.unwrap();
        // loginTokenSuccess, auth.authorization, flags, then the user of layer 181.
        assert_eq!(answer[..4], 0x390d5c5e_u32.to_le_bytes(), "{name}");
        assert_eq!(
            answer[12..16],
            0x215c4438_u32.to_le_bytes(),
            "{name}: user of layer 181"
        );
    }
    sb.stop().await;
}
