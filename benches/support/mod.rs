//! What the UI benches share: the session each row of their folders holds.

use tgsess::secret::AuthKey;
use tgsess::store::{SelfUser, Session};

/// Session `i` of a bench folder: a loopback address (nothing here dials), a key, a user.
pub fn session(i: usize) -> Session {
    let mut s = Session::new(1 + (i % 5) as i32);
    let home = s.home_mut();
    home.ipv4 = Some(std::net::Ipv4Addr::new(127, 0, 0, 1));
    home.port = Some(443);
    home.auth_key = Some(AuthKey::new([(i % 251) as u8; 256]));
    s.user_id = Some(100_000 + i as i64);
    s.is_bot = Some(i.is_multiple_of(10));
    s.api_id = Some(1);
    s.test_mode = Some(false);
    s.user = Some(SelfUser {
        first_name: Some(format!("User {i}")),
        username: Some(format!("user{i}")),
        ..SelfUser::default()
    });
    s
}
