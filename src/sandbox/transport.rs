//! MTProto transports, server side: Full (grammers), intermediate, padded intermediate and
//! abridged (Telethon, Pyrogram), detected from the first bytes a client sends. The server
//! never sends a tag. Obfuscated transports are not supported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest payload accepted from a client (grammers' own read buffer is 1 MiB + 8 KiB).
pub const MAX_PAYLOAD: usize = 1024 * 1024 + 8 * 1024;

/// Transport errors the server can report (sent as a negative 32-bit number).
pub const ERR_AUTH_KEY_NOT_FOUND: i32 = -404;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("connection closed")]
    Closed,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported transport (obfuscated or unknown first bytes)")]
    UnknownTransport,
    #[error("frame of {0} bytes is too large")]
    TooLarge(usize),
    #[error("bad frame length {0}")]
    BadLength(i64),
    #[error("bad Full seq: expected {expected}, got {got}")]
    BadSeq { expected: i32, got: i32 },
    #[error("bad Full CRC")]
    BadCrc,
    #[error("the server's read buffers are full")]
    OverBudget,
}

/// Bytes that unfinished frames of all connections may hold together: a client that announces
/// a large frame and stalls costs what it sent, and all of them together at most this.
#[derive(Debug)]
pub struct ReadBudget {
    limit: usize,
    used: AtomicUsize,
    /// The most held since the last [`ReadBudget::take_peak`].
    peak: AtomicUsize,
}

impl ReadBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The most held since the last call (then counting again from what is held now).
    pub fn take_peak(&self) -> usize {
        self.peak.swap(self.in_use(), Ordering::SeqCst)
    }

    /// Bytes held right now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    fn try_take(&self, n: usize) -> bool {
        match self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            }) {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::SeqCst);
                true
            }
            Err(_) => false,
        }
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::SeqCst);
    }
}

/// Frame bodies are read (and charged) this much at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Which framing a connection uses, with its per-connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `len | seq | payload | crc32`, seq per direction from 0.
    Full { recv_seq: i32, send_seq: i32 },
    /// 4-byte length, then payload.
    Intermediate,
    /// Like intermediate, with 0..15 random bytes after the payload.
    PaddedIntermediate,
    /// One byte len/4 (or `7f` and 3 bytes), then payload.
    Abridged,
}

impl Framing {
    pub fn name(&self) -> &'static str {
        match self {
            Framing::Full { .. } => "full",
            Framing::Intermediate => "intermediate",
            Framing::PaddedIntermediate => "padded-intermediate",
            Framing::Abridged => "abridged",
        }
    }

    /// Frames one payload (a multiple of 4 bytes) for sending.
    pub fn encode(&mut self, payload: &[u8]) -> Vec<u8> {
        match self {
            Framing::Full { send_seq, .. } => {
                let len = (payload.len() + 12) as i32;
                let mut out = Vec::with_capacity(payload.len() + 12);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&send_seq.to_le_bytes());
                out.extend_from_slice(payload);
                let crc = crc32fast::hash(&out);
                out.extend_from_slice(&crc.to_le_bytes());
                *send_seq += 1;
                out
            }
            Framing::Intermediate => {
                let mut out = Vec::with_capacity(payload.len() + 4);
                out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                out.extend_from_slice(payload);
                out
            }
            Framing::PaddedIntermediate => {
                let mut pad = [0u8; 16];
                getrandom::fill(&mut pad).expect("the OS random source failed");
                let pad_len = (pad[0] % 16) as usize;
                let mut out = Vec::with_capacity(payload.len() + 4 + pad_len);
                out.extend_from_slice(&((payload.len() + pad_len) as u32).to_le_bytes());
                out.extend_from_slice(payload);
                out.extend_from_slice(&pad[..pad_len]);
                out
            }
            Framing::Abridged => {
                let words = payload.len() / 4;
                let mut out = Vec::with_capacity(payload.len() + 4);
                if words < 127 {
                    out.push(words as u8);
                } else {
                    out.push(0x7f);
                    out.extend_from_slice(&(words as u32).to_le_bytes()[..3]);
                }
                out.extend_from_slice(payload);
                out
            }
        }
    }

    /// A transport error (e.g. -404). Full sends the code three times (12 raw bytes), which
    /// grammers reads as a negative length and Telethon as negative len + seq + 4 bytes; the
    /// others send a normal frame holding the 4-byte code.
    pub fn encode_error(&mut self, code: i32) -> Vec<u8> {
        match self {
            Framing::Full { .. } => code.to_le_bytes().repeat(3),
            _ => self.encode(&code.to_le_bytes()),
        }
    }
}

/// Reads frames from a client.
pub struct FrameReader<R> {
    reader: R,
    framing: Option<Framing>,
    /// Bytes of the first Full frame read during detection.
    first_len: Option<[u8; 4]>,
    budget: Option<Arc<ReadBudget>>,
    /// Bytes of the frame being read, charged to `budget`.
    held: usize,
}

impl<R> Drop for FrameReader<R> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<R> FrameReader<R> {
    fn release(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.held);
        }
        self.held = 0;
    }
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            framing: None,
            first_len: None,
            budget: None,
            held: 0,
        }
    }

    /// A reader whose unfinished frames are charged to `budget` (the server's).
    pub fn with_budget(reader: R, budget: Arc<ReadBudget>) -> Self {
        let mut frames = Self::new(reader);
        frames.budget = Some(budget);
        frames
    }

    /// Reads a frame body of `len` bytes, growing the buffer only as bytes arrive and charging
    /// its capacity to the budget.
    async fn read_body(&mut self, len: usize) -> Result<Vec<u8>, FrameError> {
        let mut body = Vec::new();
        while body.len() < len {
            let start = body.len();
            let step = READ_CHUNK.min(len - start);
            body.reserve_exact(step);
            let grown = body.capacity().saturating_sub(self.held);
            if let Some(budget) = &self.budget
                && !budget.try_take(grown)
            {
                return Err(FrameError::OverBudget);
            }
            self.held += grown;
            body.resize(start + step, 0);
            self.read_exact(&mut body[start..]).await?;
        }
        self.release();
        Ok(body)
    }

    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), FrameError> {
        match self.reader.read_exact(buf).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(FrameError::Closed),
            Err(e) => Err(FrameError::Io(e)),
        }
    }

    /// Reads the first bytes and picks the transport.
    async fn detect(&mut self) -> Result<Framing, FrameError> {
        let mut first = [0u8; 1];
        self.read_exact(&mut first).await?;
        if first[0] == 0xef {
            return Ok(Framing::Abridged);
        }
        let mut head = [first[0], 0, 0, 0];
        self.read_exact(&mut head[1..]).await?;
        match head {
            [0xee, 0xee, 0xee, 0xee] => return Ok(Framing::Intermediate),
            [0xdd, 0xdd, 0xdd, 0xdd] => return Ok(Framing::PaddedIntermediate),
            _ => {}
        }
        let mut seq = [0u8; 4];
        self.read_exact(&mut seq).await?;
        if seq != [0; 4] {
            return Err(FrameError::UnknownTransport);
        }
        // Full with seq 0: `head` was the first frame's length, and its seq is consumed.
        self.first_len = Some(head);
        Ok(Framing::Full {
            recv_seq: 0,
            send_seq: 0,
        })
    }

    /// The next payload, or an error after which the connection must close.
    pub async fn next_payload(&mut self) -> Result<Vec<u8>, FrameError> {
        let framing = match self.framing {
            Some(f) => f,
            None => {
                let f = self.detect().await?;
                self.framing = Some(f);
                f
            }
        };
        match framing {
            Framing::Full { recv_seq, .. } => {
                let (len_bytes, seq_read) = match self.first_len.take() {
                    Some(b) => (b, Some(0)),
                    None => {
                        let mut b = [0u8; 4];
                        self.read_exact(&mut b).await?;
                        (b, None)
                    }
                };
                let len = i32::from_le_bytes(len_bytes);
                if len < 12 + 4 || len % 4 != 0 {
                    return Err(FrameError::BadLength(len as i64));
                }
                let len = len as usize;
                if len - 12 > MAX_PAYLOAD {
                    return Err(FrameError::TooLarge(len));
                }
                let seq = match seq_read {
                    Some(s) => s,
                    None => {
                        let mut b = [0u8; 4];
                        self.read_exact(&mut b).await?;
                        i32::from_le_bytes(b)
                    }
                };
                if seq != recv_seq {
                    return Err(FrameError::BadSeq {
                        expected: recv_seq,
                        got: seq,
                    });
                }
                let mut rest = self.read_body(len - 8).await?;
                let (payload, crc) = rest.split_at(len - 12);
                let mut hasher = crc32fast::Hasher::new();
                hasher.update(&len_bytes);
                hasher.update(&seq.to_le_bytes());
                hasher.update(payload);
                if hasher.finalize().to_le_bytes() != crc {
                    return Err(FrameError::BadCrc);
                }
                if let Some(Framing::Full { recv_seq, .. }) = &mut self.framing {
                    *recv_seq += 1;
                }
                rest.truncate(len - 12);
                Ok(rest)
            }
            Framing::Intermediate | Framing::PaddedIntermediate => {
                let mut b = [0u8; 4];
                self.read_exact(&mut b).await?;
                // The high bit asks for a quick ACK: ignored.
                let len = (u32::from_le_bytes(b) & 0x7fff_ffff) as usize;
                if len > MAX_PAYLOAD {
                    return Err(FrameError::TooLarge(len));
                }
                let mut payload = self.read_body(len).await?;
                if framing == Framing::PaddedIntermediate && len >= 24 {
                    payload.truncate(len - (len - 24) % 16);
                }
                Ok(payload)
            }
            Framing::Abridged => {
                let mut b = [0u8; 1];
                self.read_exact(&mut b).await?;
                let words = match b[0] & 0x7f {
                    0x7f => {
                        let mut l = [0u8; 4];
                        self.read_exact(&mut l[..3]).await?;
                        u32::from_le_bytes(l) as usize
                    }
                    w => w as usize,
                };
                let len = words * 4;
                if len > MAX_PAYLOAD {
                    return Err(FrameError::TooLarge(len));
                }
                self.read_body(len).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::DequeBuffer;
    use grammers_mtproto::transport::{Full, Transport};

    async fn read_all(bytes: Vec<u8>) -> (Vec<Result<Vec<u8>, String>>, Option<Framing>) {
        let mut reader = FrameReader::new(&bytes[..]);
        let mut out = Vec::new();
        loop {
            match reader.next_payload().await {
                Ok(p) => out.push(Ok(p)),
                Err(FrameError::Closed) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        (out, reader.framing())
    }

    fn grammers_full_frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut t = Full::new();
        let mut wire = Vec::new();
        for p in payloads {
            let mut buf = DequeBuffer::with_capacity(p.len() + 16, 8);
            buf.extend(p.iter().copied());
            t.pack(&mut buf);
            wire.extend_from_slice(&buf[..]);
        }
        wire
    }

    #[tokio::test]
    async fn reads_grammers_full_frames() {
        let wire = grammers_full_frames(&[&[1u8; 40], &[2u8; 8]]);
        let (frames, framing) = read_all(wire).await;
        assert_eq!(frames, vec![Ok(vec![1u8; 40]), Ok(vec![2u8; 8])]);
        assert!(matches!(framing, Some(Framing::Full { recv_seq: 2, .. })));
    }

    #[tokio::test]
    async fn grammers_reads_server_full_frames() {
        let mut framing = Framing::Full {
            recv_seq: 0,
            send_seq: 0,
        };
        let mut t = Full::new();
        for i in 0..3u8 {
            let mut wire = framing.encode(&[i; 24]);
            let off = t.unpack(&mut wire).unwrap();
            assert_eq!(&wire[off.data_range], &[i; 24]);
        }
        let mut err = framing.encode_error(-404);
        assert_eq!(
            t.unpack(&mut err),
            Err(grammers_mtproto::transport::Error::BadStatus { status: 404 })
        );
    }

    #[tokio::test]
    async fn rejects_bad_crc_and_bad_seq() {
        let mut wire = grammers_full_frames(&[&[1u8; 40]]);
        let n = wire.len();
        wire[n - 1] ^= 0xff;
        let (frames, _) = read_all(wire).await;
        assert_eq!(frames, vec![Err(FrameError::BadCrc.to_string())]);

        let mut framing = Framing::Full {
            recv_seq: 0,
            send_seq: 0,
        };
        let mut wire = framing.encode(&[0u8; 16]);
        wire.extend(framing.encode(&[0u8; 16]));
        // Skip the seq of the second frame to 5.
        let second = 16 + 12;
        wire[second + 4] = 5;
        let (frames, _) = read_all(wire).await;
        assert_eq!(frames.len(), 2);
        assert!(frames[1].as_ref().unwrap_err().contains("bad Full seq"));
    }

    #[tokio::test]
    async fn detects_intermediate_padded_and_abridged() {
        let mut inter = vec![0xee; 4];
        inter.extend(Framing::Intermediate.encode(&[7u8; 8]));
        let (frames, framing) = read_all(inter).await;
        assert_eq!(frames, vec![Ok(vec![7u8; 8])]);
        assert_eq!(framing, Some(Framing::Intermediate));

        let mut padded = vec![0xdd; 4];
        padded.extend(Framing::PaddedIntermediate.encode(&[3u8; 40]));
        let (frames, framing) = read_all(padded).await;
        assert_eq!(frames, vec![Ok(vec![3u8; 40])]);
        assert_eq!(framing, Some(Framing::PaddedIntermediate));

        let mut abridged = vec![0xef];
        abridged.extend(Framing::Abridged.encode(&[5u8; 8]));
        abridged.extend(Framing::Abridged.encode(&vec![6u8; 1024]));
        let (frames, framing) = read_all(abridged).await;
        assert_eq!(frames, vec![Ok(vec![5u8; 8]), Ok(vec![6u8; 1024])]);
        assert_eq!(framing, Some(Framing::Abridged));
    }

    #[tokio::test]
    async fn refuses_oversized_truncated_and_unknown() {
        let mut big = vec![0xee; 4];
        big.extend(((MAX_PAYLOAD + 4) as u32).to_le_bytes());
        let (frames, _) = read_all(big).await;
        assert!(frames[0].as_ref().unwrap_err().contains("too large"));

        // A truncated frame ends as a closed connection, never a payload.
        let mut truncated = grammers_full_frames(&[&[1u8; 40]]);
        truncated.truncate(30);
        let (frames, _) = read_all(truncated).await;
        assert!(frames.is_empty());

        let (frames, _) = read_all(vec![0x12; 64]).await;
        assert!(frames[0].as_ref().unwrap_err().contains("unsupported"));
    }

    #[tokio::test]
    async fn a_budget_caps_unfinished_frames_and_is_given_back() {
        let budget = Arc::new(ReadBudget::new(100 * 1024));
        let mut frame = vec![0xee; 4];
        frame.extend((200u32 * 1024).to_le_bytes());
        frame.extend(vec![1u8; 200 * 1024]);
        let mut reader = FrameReader::with_budget(&frame[..], Arc::clone(&budget));
        assert!(matches!(
            reader.next_payload().await,
            Err(FrameError::OverBudget)
        ));
        assert!(budget.in_use() > 0 && budget.in_use() <= 100 * 1024);
        drop(reader);
        assert_eq!(budget.in_use(), 0);
        assert!(budget.take_peak() > 0);

        // A frame that fits is read whole, and its bytes are given back at once.
        let mut small = vec![0xee; 4];
        small.extend(8u32.to_le_bytes());
        small.extend([9u8; 8]);
        let mut reader = FrameReader::with_budget(&small[..], Arc::clone(&budget));
        assert_eq!(reader.next_payload().await.unwrap(), vec![9u8; 8]);
        assert_eq!(budget.in_use(), 0);
    }
}
