//! Telegram's test-number convention and the demo accounts.
//! 99966XYYYY lives on DC X and its login code is X repeated five times.

/// DCs every sandbox serves (DC 2 first: it gets the base port).
pub const DC_IDS: [i32; 5] = [2, 1, 3, 4, 5];
/// Where numbers outside the test convention, and bots, live.
pub const DEFAULT_DC: i32 = 2;
pub const CODE_LENGTH: usize = 5;

/// Digits only (no `+`, spaces, dashes or brackets); `None` if not a plausible number.
pub fn normalize_phone(phone: &str) -> Option<String> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
        .collect();
    (digits.len() >= 5 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The DC a test number lives on (`99966X....`, X a sandbox DC).
pub fn test_number_dc(phone: &str) -> Option<i32> {
    let rest = phone.strip_prefix("99966")?;
    if phone.len() != 10 {
        return None;
    }
    let dc = rest.chars().next()?.to_digit(10)? as i32;
    DC_IDS.contains(&dc).then_some(dc)
}

/// Test numbers ending in 9999 (`99966X9999`) stand for banned numbers: sendCode answers
/// PHONE_NUMBER_BANNED, so clients can show that error without a real ban.
pub fn is_banned_number(phone: &str) -> bool {
    test_number_dc(phone).is_some() && phone.ends_with("9999")
}

/// Home DC of a new account with this number.
pub fn home_dc_for_phone(phone: &str) -> i32 {
    test_number_dc(phone).unwrap_or(DEFAULT_DC)
}

/// The login code for a number: fixed for test numbers, random otherwise.
pub fn login_code_for(phone: &str) -> String {
    match test_number_dc(phone) {
        Some(dc) => dc.to_string().repeat(CODE_LENGTH),
        None => random_digits(CODE_LENGTH),
    }
}

pub fn random_digits(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

/// The bot id of a token `ID:SECRET`, if it has that shape.
pub fn bot_id_of_token(token: &str) -> Option<i64> {
    let (id, secret) = token.split_once(':')?;
    if secret.is_empty() || id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// One demo account added by `--seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    /// Phone number (users) or `None` (bots).
    pub phone: Option<&'static str>,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub password: Option<&'static str>,
    pub hint: Option<&'static str>,
    pub email: Option<&'static str>,
    pub bot_token: Option<&'static str>,
    /// The DC the account lives on.
    pub dc_id: i32,
    /// What it demonstrates.
    pub shows: &'static str,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        phone: Some("9996621111"),
        first_name: "Alice",
        last_name: "Sandbox",
        password: None,
        hint: None,
        email: None,
        bot_token: None,
        dc_id: 2,
        shows: "plain phone login on DC 2 (code 22222)",
    },
    DemoAccount {
        phone: Some("9996622222"),
        first_name: "Bob",
        last_name: "TwoStep",
        password: Some("sandbox"),
        hint: Some("the usual"),
        email: Some("bob@sandbox.invalid"),
        bot_token: None,
        dc_id: 2,
        shows: "2FA password \"sandbox\" with hint \"the usual\" and a recovery email (code 22222)",
    },
    DemoAccount {
        phone: Some("9996641111"),
        first_name: "Carol",
        last_name: "Faraway",
        password: None,
        hint: None,
        email: None,
        bot_token: None,
        dc_id: 4,
        shows: "lives on DC 4: PHONE_MIGRATE_4 when starting on DC 2 (code 44444)",
    },
    DemoAccount {
        phone: Some("9996611111"),
        first_name: "Dave",
        last_name: "Scanner",
        password: None,
        hint: None,
        email: None,
        bot_token: None,
        dc_id: 1,
        shows: "lives on DC 1: QR login with loginTokenMigrateTo (code 11111)",
    },
    DemoAccount {
        phone: None,
        first_name: "Sandbox Bot",
        last_name: "",
        password: None,
        hint: None,
        email: None,
        bot_token: Some("123456:SANDBOX-demo-bot-token"),
        dc_id: 2,
        shows: "bot login with a token",
    },
    DemoAccount {
        phone: None,
        first_name: "Faraway Bot",
        last_name: "",
        password: None,
        hint: None,
        email: None,
        bot_token: Some("654321:SANDBOX-dc4-bot-token"),
        dc_id: 4,
        shows: "bot living on DC 4: USER_MIGRATE_4 when starting on DC 2",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_test_numbers_ending_in_9999_are_banned() {
        assert!(is_banned_number("9996629999"));
        assert!(!is_banned_number("9996620000"));
        assert!(!is_banned_number("9996621111"));
        assert!(!is_banned_number("15559999"));
    }

    #[test]
    fn test_numbers_map_to_dc_and_code() {
        assert_eq!(
            normalize_phone("+999 662-1111").as_deref(),
            Some("9996621111")
        );
        assert_eq!(normalize_phone("12ab5"), None);
        assert_eq!(normalize_phone("123"), None);
        assert_eq!(test_number_dc("9996641111"), Some(4));
        assert_eq!(test_number_dc("9996691111"), None);
        assert_eq!(test_number_dc("99966411112"), None);
        assert_eq!(home_dc_for_phone("15550001111"), DEFAULT_DC);
        assert_eq!(login_code_for("9996631234"), "33333");
        let random = login_code_for("15550001111");
        assert_eq!(random.len(), CODE_LENGTH);
        assert!(random.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn bot_tokens_need_id_and_secret() {
        assert_eq!(bot_id_of_token("123456:abc"), Some(123456));
        assert_eq!(bot_id_of_token("123456:"), None);
        assert_eq!(bot_id_of_token("abc:def"), None);
        assert_eq!(bot_id_of_token("nocolon"), None);
    }

    #[test]
    fn demo_accounts_follow_the_convention() {
        for a in DEMO_ACCOUNTS {
            if let Some(phone) = a.phone {
                assert_eq!(home_dc_for_phone(phone), a.dc_id, "{phone}");
            }
            if let Some(token) = a.bot_token {
                assert!(bot_id_of_token(token).is_some());
            }
        }
    }
}
