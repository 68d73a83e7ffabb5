//! The sandbox server's resource limits: a stalled frame holds only what was sent, all
//! unfinished frames together stay under one budget, connections over the limit are closed at
//! once, and memory is given back when connections close. (The fd limit: sandbox_limits_fd.rs;
//! figures under heavy abuse: `cargo bench --bench sandbox_abuse`.)

use std::time::Duration;

use tgsess::sandbox::{Sandbox, SandboxConfig, Tuning};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEADLINE: Duration = Duration::from_secs(60);
const KIB: usize = 1024;

async fn sandbox(tuning: Tuning) -> Sandbox {
    Sandbox::start_tuned(
        SandboxConfig {
            state_dir: None,
            seed: false,
            base_port: 0,
        },
        tuning,
    )
    .await
    .expect("the sandbox starts")
}

/// Waits until `done` holds (checked every few milliseconds), or fails after DEADLINE.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let end = tokio::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < end,
            "{what}: not within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// An intermediate-transport frame header announcing `len` bytes.
fn header(len: usize) -> Vec<u8> {
    let mut h = vec![0xee; 4];
    h.extend((len as u32).to_le_bytes());
    h
}

async fn connect(sb: &Sandbox) -> TcpStream {
    TcpStream::connect(sb.dc_addr(2)).await.unwrap()
}

/// Whether the server closed this connection without a word (EOF before any byte).
async fn closed_silently(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(DEADLINE, s.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_frame_holds_only_what_was_sent_and_frees_it_on_close() {
    let sb = sandbox(Tuning::default()).await;
    let mut s = connect(&sb).await;
    s.write_all(&header(1024 * KIB)).await.unwrap();
    s.write_all(&[7u8; 1000]).await.unwrap();
    wait_until("the frame is being read", || sb.buffered_bytes() > 0).await;
    // One read chunk, not the announced mebibyte.
    assert!(sb.buffered_bytes() <= 64 * KIB, "{}", sb.buffered_bytes());
    drop(s);
    wait_until("the connection's buffer is freed", || {
        sb.buffered_bytes() == 0 && sb.open_connections() == 0
    })
    .await;
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_frames_of_all_connections_stay_under_one_budget() {
    let budget = 256 * KIB;
    let sb = sandbox(Tuning {
        max_buffered_bytes: budget,
        ..Tuning::default()
    })
    .await;
    let mut conns = Vec::new();
    for _ in 0..8 {
        let mut s = connect(&sb).await;
        s.write_all(&header(1024 * KIB)).await.unwrap();
        conns.push(s);
    }
    // Each sends 200 KiB of its frame: together far more than the budget.
    let mut writers = Vec::new();
    for mut s in conns {
        writers.push(tokio::spawn(async move {
            let _ = s.write_all(&vec![1u8; 200 * KIB]).await;
            s
        }));
    }
    let mut conns = Vec::new();
    for w in writers {
        conns.push(tokio::time::timeout(DEADLINE, w).await.unwrap().unwrap());
    }
    // Connections that would go over are closed; the rest hold at most the budget.
    wait_until("the server closes the connections over the budget", || {
        sb.open_connections() < 8
    })
    .await;
    assert!(sb.buffered_bytes() <= budget, "{}", sb.buffered_bytes());
    drop(conns);
    wait_until("every buffer is freed", || {
        sb.buffered_bytes() == 0 && sb.open_connections() == 0
    })
    .await;
    sb.stop().await;
}

/// A frame with an unknown auth key: a served connection answers it with -404.
async fn served(s: &mut TcpStream) -> bool {
    let mut frame = vec![0xee; 4];
    frame.extend(24u32.to_le_bytes());
    frame.extend([0x55u8; 24]);
    if s.write_all(&frame).await.is_err() {
        return false;
    }
    let mut answer = [0u8; 8];
    matches!(
        tokio::time::timeout(DEADLINE, s.read_exact(&mut answer)).await,
        Ok(Ok(_))
    ) && answer[4..] == (-404i32).to_le_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed_at_once() {
    let sb = sandbox(Tuning {
        max_connections: 3,
        ..Tuning::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&sb).await);
    }
    wait_until("three connections are served", || {
        sb.open_connections() == 3
    })
    .await;
    let mut extra = connect(&sb).await;
    assert!(closed_silently(&mut extra).await);
    assert_eq!(sb.open_connections(), 3);
    drop(held.pop());
    wait_until("a place frees up", || sb.open_connections() == 2).await;
    let mut again = connect(&sb).await;
    assert!(
        served(&mut again).await,
        "a connection under the limit is served"
    );
    sb.stop().await;
}
