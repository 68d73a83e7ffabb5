//! Abuse figures for the sandbox server's resource limits (docs/sandbox.md, "Limits"). Slow
//! (half a GiB over loopback), so ignored by `cargo test`; run it with
//! `cargo test --locked --test sandbox_limits_abuse -- --ignored --nocapture`.
//! Starts `tgsess sandbox serve` (or the binary in `TGSESS_ABUSE_BIN`, to measure another
//! build), then
//!
//! 1. opens 500 connections that each announce a 1 MiB frame and send all of it but the last
//!    byte, and reports the server's RSS before, while they are open, and after they closed;
//! 2. restarts the server with a file-descriptor limit of 64, holds 100 connections open and
//!    reports the CPU seconds the server burns in 5 s at the limit.

mod tgsess_bin;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CONNECTIONS: usize = 500;
const FRAME: usize = 1024 * 1024;

fn serve(state: &std::path::Path, fd_limit: Option<u64>) -> (Child, u16) {
    let mut cmd = match std::env::var_os("TGSESS_ABUSE_BIN") {
        Some(bin) => Command::new(bin),
        None => {
            let mut c = tgsess_bin::command();
            c.env_remove("RUST_LOG");
            c
        }
    };
    cmd.args(["sandbox", "serve", "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(limit) = fd_limit {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().expect("serve starts");
    let out = child.stdout.take().unwrap();
    let mut port = None;
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("dc 2 listening on 127.0.0.1:") {
            port = rest.trim().parse().ok();
        }
        if line.starts_with("state in") {
            break;
        }
    }
    (child, port.expect("serve printed its DC 2 port"))
}

fn proc_field(pid: u32, file: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default()
}

fn rss_mib(pid: u32) -> f64 {
    proc_field(pid, "status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = proc_field(pid, "stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// RSS once it stopped moving (the server reads asynchronously).
fn settled_rss(pid: u32) -> f64 {
    let end = Instant::now() + Duration::from_secs(10);
    let mut last = rss_mib(pid);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(500));
        let now = rss_mib(pid);
        if (now - last).abs() < 1.0 {
            return now;
        }
        last = now;
    }
    last
}

async fn unfinished_frame(port: u16) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut head = vec![0xee; 4];
    head.extend((FRAME as u32).to_le_bytes());
    s.write_all(&head).await.ok()?;
    let body = vec![0x42u8; FRAME - 1];
    // The server may close a connection over its limits: that ends this one's abuse.
    let _ = tokio::time::timeout(Duration::from_secs(5), s.write_all(&body)).await;
    Some(s)
}

#[test]
#[ignore = "slow abuse figures: run with --ignored --nocapture"]
fn abuse_figures() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = tempfile::tempdir().unwrap();

    let (mut child, port) = serve(state.path(), None);
    let pid = child.id();
    let before = settled_rss(pid);
    let conns = runtime.block_on(async {
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|_| tokio::spawn(unfinished_frame(port)))
            .collect();
        let mut conns = Vec::new();
        for t in tasks {
            conns.extend(t.await.unwrap());
        }
        conns
    });
    let during = settled_rss(pid);
    drop(conns);
    let after = settled_rss(pid);
    println!(
        "{CONNECTIONS} connections x unfinished {} KiB frame: RSS {before:.0} MiB before, \
         {during:.0} MiB while open (+{:.0}), {after:.0} MiB after close (+{:.0})",
        FRAME / 1024,
        during - before,
        after - before
    );
    let memory_bounded = during - before < 64.0 && after - before < 16.0;
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, port) = serve(state.path(), Some(64));
    let pid = child.id();
    let held = runtime.block_on(async {
        let mut held = Vec::new();
        for _ in 0..100 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
                held.push(s);
            }
        }
        held
    });
    let cpu0 = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(5));
    let cpu = cpu_seconds(pid) - cpu0;
    println!(
        "fd limit 64, {} connections held: {cpu:.2} CPU-seconds in 5 s",
        held.len()
    );
    drop(held);
    let _ = child.kill();
    let _ = child.wait();
    assert!(memory_bounded, "the server's memory grew past its limits");
    assert!(cpu < 0.5, "the accept loop spins at the fd limit");
}
