//! Telegram's datacenter addresses, for formats that store only a DC id
//! (session-formats spec §6).

use std::net::{Ipv4Addr, Ipv6Addr};

pub struct DcAddress {
    pub ipv4: Ipv4Addr,
    pub ipv6: Ipv6Addr,
    pub port: u16,
}

const fn v6(s: [u16; 8]) -> Ipv6Addr {
    Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
}

const PRODUCTION: [(i32, Ipv4Addr, Ipv6Addr); 6] = [
    (
        1,
        Ipv4Addr::new(149, 154, 175, 53),
        v6([0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xa]),
    ),
    (
        2,
        Ipv4Addr::new(149, 154, 167, 51),
        v6([0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xa]),
    ),
    (
        3,
        Ipv4Addr::new(149, 154, 175, 100),
        v6([0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xa]),
    ),
    (
        4,
        Ipv4Addr::new(149, 154, 167, 91),
        v6([0x2001, 0x67c, 0x4e8, 0xf004, 0, 0, 0, 0xa]),
    ),
    (
        5,
        Ipv4Addr::new(91, 108, 56, 130),
        v6([0x2001, 0xb28, 0xf23f, 0xf005, 0, 0, 0, 0xa]),
    ),
    (
        203,
        Ipv4Addr::new(91, 105, 192, 100),
        v6([0x2a0a, 0xf280, 0x203, 0xa, 0x5000, 0, 0, 0x100]),
    ),
];

const TEST: [(i32, Ipv4Addr, Ipv6Addr); 3] = [
    (
        1,
        Ipv4Addr::new(149, 154, 175, 10),
        v6([0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xe]),
    ),
    (
        2,
        Ipv4Addr::new(149, 154, 167, 40),
        v6([0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xe]),
    ),
    (
        3,
        Ipv4Addr::new(149, 154, 175, 117),
        v6([0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xe]),
    ),
];

/// The documented address of `dc_id`: production port 443, test port 80 (as Pyrogram uses).
pub fn lookup(dc_id: i32, test_mode: bool) -> Option<DcAddress> {
    let (table, port): (&[(i32, Ipv4Addr, Ipv6Addr)], u16) = if test_mode {
        (&TEST, 80)
    } else {
        (&PRODUCTION, 443)
    };
    table
        .iter()
        .find(|(id, _, _)| *id == dc_id)
        .map(|(_, ipv4, ipv6)| DcAddress {
            ipv4: *ipv4,
            ipv6: *ipv6,
            port,
        })
}

/// Whether an address is one of the test DCs (how Telethon marks a test session).
pub fn is_test_address(addr: &str) -> bool {
    TEST.iter()
        .any(|(_, v4, v6)| v4.to_string() == addr || v6.to_string() == addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_dcs() {
        assert_eq!(lookup(4, false).unwrap().ipv4.to_string(), "149.154.167.91");
        assert_eq!(lookup(2, true).unwrap().port, 80);
        assert!(lookup(4, true).is_none());
        assert!(lookup(9, false).is_none());
        assert!(is_test_address("149.154.167.40"));
        assert!(!is_test_address("149.154.167.51"));
    }
}
