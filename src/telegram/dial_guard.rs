//! The one gate every address grammers dials goes through.
//!
//! grammers asks its session for a DC's address (`Session::dc_option`) right before it opens a
//! connection: the first one, a reconnect after the sender dropped, a *_MIGRATE to another DC,
//! a file DC. [`GuardedSession`] sits between grammers and the stored session and answers that
//! question, so this is where tgsess decides what may be dialled:
//!
//! - on a sandbox ([`Network::Sandbox`]) every address comes from the sandbox itself, never
//!   from the session file nor from Telegram's DC table;
//! - when only loopback may be dialled (sandbox mode, every test run, or
//!   `TGSESS_LOOPBACK_ONLY=1`) any address outside 127.0.0.0/8 and ::1 is refused before a
//!   socket exists: grammers is told the DC is unknown (its config merge, which asks for every
//!   DC after connecting, then simply takes the server's address), and the request that wanted
//!   to dial fails with [`DialRefused`] (see [`last_refusal`]).
//!
//! Every answer is recorded (counters in [`stats`], and one line per answer in the file named by
//! `TGSESS_DIAL_LOG`), so tests can check what a process would have dialled.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use grammers_session::types::{DcOption, PeerId, PeerInfo, UpdateState, UpdatesState};
use grammers_session::{BoxFuture, Session as GrammersSession};

use crate::store::StoreError;
use crate::store::adapter::StoredSession;

/// Set to anything but `0` or empty: this process dials loopback addresses only.
pub const LOOPBACK_ONLY_ENV: &str = "TGSESS_LOOPBACK_ONLY";
/// A file path: every address handed to grammers is appended there, one line each
/// (`allowed DC ADDR` or `refused DC ADDR`).
pub const DIAL_LOG_ENV: &str = "TGSESS_DIAL_LOG";

/// Where a sandbox DC listens (None: the sandbox does not serve that DC).
pub type SandboxAddrs = Arc<dyn Fn(i32) -> Option<SocketAddr> + Send + Sync>;

/// Which servers a connection talks to.
#[derive(Clone, Default)]
pub enum Network {
    /// Telegram: each DC at the address its session stores, else Telegram's DC table.
    #[default]
    Telegram,
    /// A sandbox DC: addresses come from the sandbox alone, and only loopback is dialled.
    Sandbox(SandboxAddrs),
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Network::Telegram => "Telegram",
            Network::Sandbox(_) => "Sandbox",
        })
    }
}

impl Network {
    /// Whether connections on this network may only reach loopback addresses.
    pub fn loopback_only(&self) -> bool {
        matches!(self, Network::Sandbox(_)) || loopback_forced()
    }
}

/// An address tgsess will not dial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to connect to {target}: {why}; {mode} only talks to 127.0.0.1 and ::1 \
     (use a session made by `tgsess sandbox new-session` or a sandbox login)"
)]
pub struct DialRefused {
    /// What would have been dialled, e.g. "DC 2 at 149.154.167.51:443".
    pub target: String,
    pub why: &'static str,
    pub mode: &'static str,
}

static FORCED: AtomicBool = AtomicBool::new(false);
static ALLOWED: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);
static LAST_REFUSAL: Mutex<Option<DialRefused>> = Mutex::new(None);

/// The newest refusal in this process: grammers reports a refused DC as "invalid DC", and the
/// account layer turns that back into this clear error.
pub fn last_refusal() -> Option<DialRefused> {
    LAST_REFUSAL
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// From now on this process dials loopback addresses only, whatever the network (tests call
/// this; a child process gets the same rule from [`LOOPBACK_ONLY_ENV`]).
pub fn force_loopback_only() {
    FORCED.store(true, Ordering::SeqCst);
}

/// Whether this process may dial loopback addresses only, whatever a connection's network.
pub fn loopback_forced() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    cfg!(test)
        || FORCED.load(Ordering::SeqCst)
        || *FROM_ENV.get_or_init(|| {
            std::env::var_os(LOOPBACK_ONLY_ENV).is_some_and(|v| !v.is_empty() && v != "0")
        })
}

/// Addresses this process handed to grammers (allowed) or refused, since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DialStats {
    pub allowed: usize,
    pub refused: usize,
}

pub fn stats() -> DialStats {
    DialStats {
        allowed: ALLOWED.load(Ordering::SeqCst),
        refused: REFUSED.load(Ordering::SeqCst),
    }
}

/// 127.0.0.0/8 or ::1 (also written as an IPv4-mapped IPv6 address).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Checks a proxy URL before grammers dials it: with loopback only, the proxy must be a
/// loopback IP literal (a host name would need DNS, itself a connection out).
pub fn check_proxy(url: &str, network: &Network) -> Result<(), DialRefused> {
    if !network.loopback_only() {
        return Ok(());
    }
    let host_port = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) if is_loopback(ip) => Ok(()),
        _ => Err(DialRefused {
            target: format!("the proxy {host_port}"),
            why: "it is not a loopback address",
            mode: mode_name(network),
        }),
    }
}

fn mode_name(network: &Network) -> &'static str {
    match network {
        Network::Sandbox(_) => "sandbox mode",
        Network::Telegram => "this process (TGSESS_LOOPBACK_ONLY or a test run)",
    }
}

/// The address grammers will dial for `option` (it dials IPv4 unless told to use IPv6).
fn dialled(option: &DcOption, use_ipv6: bool) -> SocketAddr {
    if use_ipv6 {
        SocketAddr::V6(option.ipv6)
    } else {
        SocketAddr::V4(option.ipv4)
    }
}

/// A DC option pointing at `addr` (both address families), keeping `key`.
fn option_at(dc_id: i32, addr: SocketAddr, key: Option<[u8; 256]>) -> DcOption {
    let (ipv4, ipv6) = match addr {
        SocketAddr::V4(v4) => (
            v4,
            SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
        ),
        SocketAddr::V6(v6) => (
            SocketAddrV4::new(
                v6.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
                v6.port(),
            ),
            SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0),
        ),
    };
    DcOption {
        id: dc_id,
        ipv4,
        ipv6,
        auth_key: key,
    }
}

/// Decides the address of one DC: the sandbox's on a sandbox, else the stored one; refused
/// when only loopback may be dialled and it is not loopback.
fn route(
    network: &Network,
    use_ipv6: bool,
    dc_id: i32,
    stored: Option<DcOption>,
) -> Result<Option<DcOption>, DialRefused> {
    let option = match network {
        Network::Telegram => stored,
        Network::Sandbox(addrs) => {
            let Some(addr) = addrs(dc_id) else {
                REFUSED.fetch_add(1, Ordering::SeqCst);
                return Err(DialRefused {
                    target: format!("DC {dc_id}"),
                    why: "the sandbox does not serve that DC",
                    mode: mode_name(network),
                });
            };
            Some(option_at(dc_id, addr, stored.and_then(|o| o.auth_key)))
        }
    };
    let Some(option) = option else {
        return Ok(None);
    };
    let addr = dialled(&option, use_ipv6);
    if network.loopback_only() && !is_loopback(addr.ip()) {
        record(dc_id, addr, false);
        return Err(DialRefused {
            target: format!("DC {dc_id} at {addr}"),
            why: "it is not a loopback address",
            mode: mode_name(network),
        });
    }
    record(dc_id, addr, true);
    Ok(Some(option))
}

fn record(dc_id: i32, addr: SocketAddr, allowed: bool) {
    let (counter, verdict) = if allowed {
        (&ALLOWED, "allowed")
    } else {
        (&REFUSED, "refused")
    };
    counter.fetch_add(1, Ordering::SeqCst);
    let Some(path) = std::env::var_os(DIAL_LOG_ENV).filter(|p| !p.is_empty()) else {
        return;
    };
    // One short append per line: concurrent writers never interleave inside a line.
    let line = format!("{verdict} {dc_id} {addr}\n");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut file) = file {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The stored session as grammers sees it, with every DC address routed through the guard.
pub struct GuardedSession {
    inner: Arc<StoredSession>,
    network: Network,
    use_ipv6: bool,
}

impl GuardedSession {
    pub fn new(inner: Arc<StoredSession>, network: Network, use_ipv6: bool) -> Self {
        Self {
            inner,
            network,
            use_ipv6,
        }
    }

    /// A session for test clients: sandbox addresses only, IPv4.
    pub fn sandbox(inner: Arc<StoredSession>, addrs: SandboxAddrs) -> Self {
        Self::new(inner, Network::Sandbox(addrs), false)
    }
}

impl GrammersSession for GuardedSession {
    type Error = StoreError;

    fn home_dc_id(&self) -> Result<i32, StoreError> {
        self.inner.home_dc_id()
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.set_home_dc_id(dc_id)
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, StoreError> {
        let stored = self.inner.dc_option(dc_id)?;
        match route(&self.network, self.use_ipv6, dc_id, stored) {
            Ok(option) => Ok(option),
            Err(refused) => {
                *LAST_REFUSAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(refused);
                Ok(None)
            }
        }
    }

    fn set_dc_option(&self, option: &DcOption) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.set_dc_option(option)
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, StoreError>> {
        self.inner.peer(peer)
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.cache_peer(peer)
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, StoreError>> {
        self.inner.updates_state()
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.set_update_state(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Session;
    use crate::store::adapter::Backend;
    use std::net::Ipv6Addr;

    fn v6_none(port: u16) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0)
    }

    fn production(dc_id: i32) -> DcOption {
        DcOption {
            id: dc_id,
            ipv4: SocketAddrV4::new(Ipv4Addr::new(149, 154, 167, 51), 443),
            ipv6: v6_none(443),
            auth_key: Some([7; 256]),
        }
    }

    fn sandbox_at(port: u16) -> Network {
        Network::Sandbox(Arc::new(move |dc| {
            (1..=5)
                .contains(&dc)
                .then(|| SocketAddr::from((Ipv4Addr::LOCALHOST, port + dc as u16)))
        }))
    }

    #[test]
    fn loopback_means_127_slash_8_and_colon_colon_1() {
        for ok in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ok.parse().unwrap()), "{ok}");
        }
        for bad in [
            "149.154.167.51",
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "2001:b28:f23d:f001::a",
        ] {
            assert!(!is_loopback(bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn a_sandbox_replaces_every_stored_address_and_keeps_the_key() {
        let got = route(&sandbox_at(4000), false, 2, Some(production(2)))
            .unwrap()
            .unwrap();
        assert_eq!(got.ipv4, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4002));
        assert_eq!(got.ipv6.port(), 4002);
        assert_eq!(got.auth_key, Some([7; 256]));
        // A DC the session never heard of still gets the sandbox's address.
        let fresh = route(&sandbox_at(4000), false, 4, None).unwrap().unwrap();
        assert_eq!(fresh.ipv4.port(), 4004);
        assert_eq!(fresh.auth_key, None);
    }

    #[test]
    fn a_dc_the_sandbox_does_not_serve_is_refused() {
        let err = route(&sandbox_at(4000), false, 9, Some(production(9))).unwrap_err();
        assert!(err.to_string().contains("DC 9"), "{err}");
        assert!(err.to_string().contains("sandbox mode"), "{err}");
    }

    #[test]
    fn a_sandbox_answering_a_remote_address_is_refused() {
        let remote = Network::Sandbox(Arc::new(|_| Some("149.154.167.51:443".parse().unwrap())));
        let err = route(&remote, false, 2, None).unwrap_err();
        assert!(err.to_string().contains("149.154.167.51:443"), "{err}");
    }

    #[test]
    fn unit_tests_never_dial_out_even_on_the_telegram_network() {
        assert!(Network::Telegram.loopback_only());
        let before = stats().refused;
        let err = route(&Network::Telegram, false, 2, Some(production(2))).unwrap_err();
        assert!(
            err.to_string()
                .contains("refusing to connect to DC 2 at 149.154.167.51:443"),
            "{err}"
        );
        assert!(stats().refused > before);
        // The IPv6 address is checked when IPv6 is what gets dialled.
        let mut v6 = production(2);
        v6.ipv4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 443);
        assert!(route(&Network::Telegram, false, 2, Some(v6.clone())).is_ok());
        assert!(route(&Network::Telegram, true, 2, Some(v6)).is_err());
    }

    #[test]
    fn proxies_must_be_loopback_literals_when_only_loopback_is_allowed() {
        let net = Network::Telegram;
        assert!(check_proxy("socks5://127.0.0.1:1080", &net).is_ok());
        assert!(check_proxy("socks5://user:pw@[::1]:1080", &net).is_ok());
        let err = check_proxy("socks5://user:secret@proxy.example:1080", &net).unwrap_err();
        assert!(err.to_string().contains("proxy.example:1080"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(check_proxy("socks5://localhost:1080", &net).is_err());
        assert!(check_proxy("socks5://10.1.1.1:1080", &net).is_err());
    }

    #[test]
    fn the_guarded_session_routes_what_the_store_holds() {
        let mut s = Session::new(2);
        let dc = s.dc_mut(2);
        dc.ipv4 = Some(Ipv4Addr::new(149, 154, 167, 51));
        dc.port = Some(443);
        let stored = Arc::new(StoredSession::new(s, Backend::Memory));
        let on_sandbox = GuardedSession::new(Arc::clone(&stored), sandbox_at(5000), false);
        let got = on_sandbox.dc_option(2).unwrap().unwrap();
        assert_eq!(got.ipv4.to_string(), "127.0.0.1:5002");
        let on_telegram = GuardedSession::new(stored, Network::Telegram, false);
        // Refused: grammers hears "no such DC", the clear reason is kept for the error.
        assert!(on_telegram.dc_option(2).unwrap().is_none());
        let refused = last_refusal().unwrap();
        assert!(refused.target.contains("149.154.167.51:443"), "{refused}");
    }
}
