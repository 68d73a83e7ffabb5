//! The one session type: everything any supported format can carry. A field that the source
//! format does not carry is `None`, never invented.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::secret::AuthKey;

/// Where one datacenter lives and the key this account holds for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcEntry {
    pub id: i32,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub port: Option<u16>,
    pub auth_key: Option<AuthKey>,
}

impl DcEntry {
    pub fn new(id: i32) -> Self {
        Self {
            id,
            ipv4: None,
            ipv6: None,
            port: None,
            auth_key: None,
        }
    }

    /// The address a format with a single text column would store (IPv4 preferred).
    pub fn address_text(&self) -> Option<String> {
        self.ipv4
            .map(|a| a.to_string())
            .or_else(|| self.ipv6.map(|a| a.to_string()))
    }

    /// Sets the address from text, as Telethon and Pyrogram store it.
    pub fn set_address_text(&mut self, text: &str) -> bool {
        if let Ok(v4) = text.parse::<Ipv4Addr>() {
            self.ipv4 = Some(v4);
            true
        } else if let Ok(v6) = text.parse::<Ipv6Addr>() {
            self.ipv6 = Some(v6);
            true
        } else {
            false
        }
    }
}

/// Cached information about the logged-in account, where a format keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfUser {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
}

impl SelfUser {
    pub fn is_empty(&self) -> bool {
        *self == SelfUser::default()
    }

    /// "First Last", or the username, for one-line displays.
    pub fn display_name(&self) -> Option<String> {
        display_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.username.as_deref(),
        )
    }
}

/// "First Last" (empty parts left out), else "@username": how one line names an account.
pub fn display_name(
    first: Option<&str>,
    last: Option<&str>,
    username: Option<&str>,
) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        Some(name)
    } else {
        username.map(|u| format!("@{u}"))
    }
}

/// One Telegram session, whatever format it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The home datacenter: where the account lives.
    pub dc_id: i32,
    /// Known datacenters, sorted by id, the home DC among them.
    pub dcs: Vec<DcEntry>,
    pub user_id: Option<i64>,
    pub is_bot: Option<bool>,
    pub api_id: Option<i32>,
    pub test_mode: Option<bool>,
    pub user: Option<SelfUser>,
}

impl Session {
    /// A session with only a home DC and no key.
    pub fn new(dc_id: i32) -> Self {
        Self {
            dc_id,
            dcs: vec![DcEntry::new(dc_id)],
            user_id: None,
            is_bot: None,
            api_id: None,
            test_mode: None,
            user: None,
        }
    }

    /// A logged-out session on `dc_id` that reaches the same servers as `like` (its DC
    /// addresses and test mode, no keys, no account).
    pub fn new_like(dc_id: i32, like: Option<&Session>) -> Self {
        let mut s = Session::new(dc_id);
        if let Some(src) = like {
            for dc in &src.dcs {
                let entry = s.dc_mut(dc.id);
                entry.ipv4 = dc.ipv4;
                entry.ipv6 = dc.ipv6;
                entry.port = dc.port;
            }
            s.test_mode = src.test_mode;
        }
        s
    }

    pub fn home(&self) -> Option<&DcEntry> {
        self.dc(self.dc_id)
    }

    pub fn dc(&self, id: i32) -> Option<&DcEntry> {
        self.dcs.iter().find(|d| d.id == id)
    }

    /// The entry for `id`, created (and kept sorted) when missing.
    pub fn dc_mut(&mut self, id: i32) -> &mut DcEntry {
        let pos = match self.dcs.binary_search_by_key(&id, |d| d.id) {
            Ok(pos) => pos,
            Err(pos) => {
                self.dcs.insert(pos, DcEntry::new(id));
                pos
            }
        };
        &mut self.dcs[pos]
    }

    pub fn home_mut(&mut self) -> &mut DcEntry {
        let id = self.dc_id;
        self.dc_mut(id)
    }

    /// The home DC's key, which is what "the session's key" means to every format.
    pub fn auth_key(&self) -> Option<&AuthKey> {
        self.home().and_then(|d| d.auth_key.as_ref())
    }

    pub fn has_key(&self) -> bool {
        self.auth_key().is_some()
    }

    /// Forgets every key (after a logout) but keeps addresses and identity fields.
    pub fn clear_keys(&mut self) {
        for dc in &mut self.dcs {
            dc.auth_key = None;
        }
    }
}
