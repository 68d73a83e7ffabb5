//! The service layer seen by a hand-made client (grammers' client-side crypto and Full
//! framing, our own envelopes): new sessions, salts, clock checks, containers, gzip, pings.

mod sandbox_support;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use grammers_client::tl::{self, Deserializable, Identifiable, Serializable};
use grammers_crypto::{AuthKey, DequeBuffer};
use grammers_mtproto::transport::{self, Full, Transport};
use sandbox_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RPC_RESULT: u32 = 0xf35c_6d01;
const CONTAINER: u32 = 0x73f1_f8dc;
const GZIP: u32 = 0x3072_cfa1;

struct Received {
    msg_id: i64,
    seq_no: i32,
    body: Vec<u8>,
}

impl Received {
    fn id(&self) -> u32 {
        u32::from_le_bytes(self.body[..4].try_into().unwrap())
    }
    /// `(req_msg_id, result)` of an rpc_result.
    fn rpc_result(&self) -> (i64, Vec<u8>) {
        assert_eq!(self.id(), RPC_RESULT);
        (
            i64::from_le_bytes(self.body[4..12].try_into().unwrap()),
            self.body[12..].to_vec(),
        )
    }
}

struct RawClient {
    stream: TcpStream,
    transport: Full,
    key: AuthKey,
    session_id: i64,
    last_msg_id: i64,
    incoming: Vec<u8>,
}

fn now_msg_id(offset_secs: i64) -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    ((now.as_secs() as i64 + offset_secs) << 32) | ((now.subsec_nanos() as i64) << 2)
}

impl RawClient {
    async fn connect(addr: std::net::SocketAddr, key: [u8; 256]) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            transport: Full::new(),
            key: AuthKey::from_bytes(key),
            session_id: 0x5eed,
            last_msg_id: 0,
            incoming: Vec::new(),
        }
    }

    fn next_msg_id(&mut self) -> i64 {
        let mut id = now_msg_id(0) & !3;
        if id <= self.last_msg_id {
            id = self.last_msg_id + 4;
        }
        self.last_msg_id = id;
        id
    }

    async fn send_raw(&mut self, salt: i64, msg_id: i64, seq_no: i32, body: &[u8]) {
        let mut buf = DequeBuffer::with_capacity(body.len() + 128, 64);
        buf.extend(salt.to_le_bytes());
        buf.extend(self.session_id.to_le_bytes());
        buf.extend(msg_id.to_le_bytes());
        buf.extend(seq_no.to_le_bytes());
        buf.extend((body.len() as i32).to_le_bytes());
        buf.extend(body.iter().copied());
        grammers_crypto::encrypt_data_v2(&mut buf, &self.key);
        self.transport.pack(&mut buf);
        self.stream.write_all(&buf[..]).await.unwrap();
    }

    /// Sends `body` as one content-related message; returns its msg_id.
    async fn send(&mut self, salt: i64, body: &[u8]) -> i64 {
        let id = self.next_msg_id();
        self.send_raw(salt, id, 1, body).await;
        id
    }

    async fn recv(&mut self) -> Received {
        loop {
            match self.transport.unpack(&mut self.incoming) {
                Ok(offset) => {
                    let mut payload = self.incoming[offset.data_range.clone()].to_vec();
                    self.incoming.drain(..offset.next_offset);
                    let plain = grammers_crypto::decrypt_data_v2(&mut payload, &self.key).unwrap();
                    let session = i64::from_le_bytes(plain[8..16].try_into().unwrap());
                    assert_eq!(session, self.session_id, "server echoes the session id");
                    let len = i32::from_le_bytes(plain[28..32].try_into().unwrap()) as usize;
                    return Received {
                        msg_id: i64::from_le_bytes(plain[16..24].try_into().unwrap()),
                        seq_no: i32::from_le_bytes(plain[24..28].try_into().unwrap()),
                        body: plain[32..32 + len].to_vec(),
                    };
                }
                Err(transport::Error::MissingBytes) => {
                    let mut chunk = [0u8; 8192];
                    let n = within("server answers", self.stream.read(&mut chunk))
                        .await
                        .unwrap();
                    assert!(n > 0, "server closed the connection");
                    self.incoming.extend_from_slice(&chunk[..n]);
                }
                Err(e) => panic!("transport error {e}"),
            }
        }
    }

    /// Starts a session; returns the server salt from new_session_created.
    async fn start(&mut self) -> i64 {
        let first = self
            .send(0, &tl::functions::help::GetNearestDc {}.to_bytes())
            .await;
        let created = self.recv().await;
        let tl::enums::NewSession::Created(c) =
            tl::enums::NewSession::from_bytes(&created.body).unwrap();
        assert_eq!(c.first_msg_id, first);
        assert_eq!(created.msg_id & 3, 3, "notifications are ≡ 3 mod 4");
        let answer = self.recv().await;
        assert_eq!(answer.msg_id & 3, 1, "responses are ≡ 1 mod 4");
        assert!(answer.msg_id > created.msg_id);
        assert_eq!((created.seq_no, answer.seq_no), (1, 3));
        let (req, result) = answer.rpc_result();
        assert_eq!(req, first);
        let tl::enums::NearestDc::Dc(dc) = tl::enums::NearestDc::from_bytes(&result).unwrap();
        assert_eq!(dc.this_dc, 2);
        c.server_salt
    }
}

async fn raw_client() -> (tgsess::sandbox::Sandbox, RawClient) {
    let sb = seeded().await;
    let session = sb.new_session(2).unwrap();
    let key = *session.auth_key().unwrap().reveal();
    let rc = RawClient::connect(sb.dc_addr(2), key).await;
    (sb, rc)
}

#[tokio::test]
async fn new_session_salts_and_future_salts() {
    let (sb, mut rc) = raw_client().await;
    let salt = rc.start().await;

    // A wrong salt: bad_server_salt with the right one, nothing executed.
    let bad = rc
        .send(salt ^ 1, &tl::functions::help::GetNearestDc {}.to_bytes())
        .await;
    let notice = rc.recv().await;
    let tl::enums::BadMsgNotification::BadServerSalt(b) =
        tl::enums::BadMsgNotification::from_bytes(&notice.body).unwrap()
    else {
        panic!("expected bad_server_salt");
    };
    assert_eq!(
        (b.bad_msg_id, b.error_code, b.new_server_salt),
        (bad, 48, salt)
    );
    assert_eq!(notice.seq_no % 2, 0, "notices are not content-related");

    let req = rc
        .send(salt, &tl::functions::GetFutureSalts { num: 3 }.to_bytes())
        .await;
    let answer = rc.recv().await;
    let tl::enums::FutureSalts::Salts(fs) =
        tl::enums::FutureSalts::from_bytes(&answer.body).expect("top-level future_salts");
    assert_eq!(fs.req_msg_id, req);
    assert_eq!(fs.salts.0.len(), 3);
    assert_eq!(fs.salts.0[0].salt, salt);
    assert!(fs.salts.0[0].valid_until > fs.salts.0[1].valid_since);
    // Every issued future salt is accepted.
    let later = fs.salts.0[2].salt;
    let req = rc
        .send(later, &tl::functions::Ping { ping_id: 9 }.to_bytes())
        .await;
    let tl::enums::Pong::Pong(p) = tl::enums::Pong::from_bytes(&rc.recv().await.body).unwrap();
    assert_eq!((p.msg_id, p.ping_id), (req, 9));
    sb.stop().await;
}

#[tokio::test]
async fn clock_and_parity_checks() {
    let (sb, mut rc) = raw_client().await;
    let salt = rc.start().await;
    for (msg_id, code) in [
        (now_msg_id(-400) & !3, 16),
        (now_msg_id(120) & !3, 17),
        ((now_msg_id(0) & !3) | 1, 18),
    ] {
        rc.send_raw(
            salt,
            msg_id,
            5,
            &tl::functions::help::GetNearestDc {}.to_bytes(),
        )
        .await;
        let notice = rc.recv().await;
        let tl::enums::BadMsgNotification::Notification(n) =
            tl::enums::BadMsgNotification::from_bytes(&notice.body).unwrap()
        else {
            panic!("expected bad_msg_notification");
        };
        assert_eq!((n.bad_msg_id, n.error_code), (msg_id, code));
    }
    sb.stop().await;
}

#[tokio::test]
async fn containers_gzip_pings_and_acks() {
    let (sb, mut rc) = raw_client().await;
    let salt = rc.start().await;

    let ping_id = rc.next_msg_id();
    let nearest_id = rc.next_msg_id();
    let ack_id = rc.next_msg_id();
    let container_id = rc.next_msg_id();
    let mut container = CONTAINER.to_le_bytes().to_vec();
    container.extend(3i32.to_le_bytes());
    for (id, seq, body) in [
        (ping_id, 1i32, tl::functions::Ping { ping_id: 5 }.to_bytes()),
        (
            nearest_id,
            3,
            tl::functions::help::GetNearestDc {}.to_bytes(),
        ),
        (
            ack_id,
            4,
            tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: vec![1] }).to_bytes(),
        ),
    ] {
        container.extend(id.to_le_bytes());
        container.extend(seq.to_le_bytes());
        container.extend((body.len() as i32).to_le_bytes());
        container.extend(body);
    }
    rc.send_raw(salt, container_id, 4, &container).await;
    let first = rc.recv().await;
    let tl::enums::Pong::Pong(p) = tl::enums::Pong::from_bytes(&first.body).unwrap();
    assert_eq!((p.msg_id, p.ping_id), (ping_id, 5));
    let (req, _) = rc.recv().await.rpc_result();
    assert_eq!(req, nearest_id);

    // gzip_packed request (RFC 1952 gzip, as grammers sends large requests).
    let inner = tl::functions::help::GetNearestDc {}.to_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&inner).unwrap();
    let mut packed = GZIP.to_le_bytes().to_vec();
    gz.finish().unwrap().serialize(&mut packed);
    let req = rc.send(salt, &packed).await;
    let (answered, result) = rc.recv().await.rpc_result();
    assert_eq!(answered, req);
    assert_eq!(
        u32::from_le_bytes(result[..4].try_into().unwrap()),
        tl::types::NearestDc::CONSTRUCTOR_ID
    );

    // ping_delay_disconnect is answered like ping.
    let req = rc
        .send(
            salt,
            &tl::functions::PingDelayDisconnect {
                ping_id: 6,
                disconnect_delay: 75,
            }
            .to_bytes(),
        )
        .await;
    let tl::enums::Pong::Pong(p) = tl::enums::Pong::from_bytes(&rc.recv().await.body).unwrap();
    assert_eq!((p.msg_id, p.ping_id), (req, 6));

    // A broken container is refused with code 64, and the connection lives on.
    let mut broken = CONTAINER.to_le_bytes().to_vec();
    broken.extend(2i32.to_le_bytes());
    broken.extend(rc.next_msg_id().to_le_bytes());
    let broken_id = rc.next_msg_id();
    rc.send_raw(salt, broken_id, 6, &broken).await;
    let tl::enums::BadMsgNotification::Notification(n) =
        tl::enums::BadMsgNotification::from_bytes(&rc.recv().await.body).unwrap()
    else {
        panic!("expected bad_msg_notification");
    };
    assert_eq!((n.bad_msg_id, n.error_code), (broken_id, 64));
    let req = rc
        .send(salt, &tl::functions::Ping { ping_id: 8 }.to_bytes())
        .await;
    let tl::enums::Pong::Pong(p) = tl::enums::Pong::from_bytes(&rc.recv().await.body).unwrap();
    assert_eq!(p.msg_id, req);
    sb.stop().await;
}
