//! Every account flow through the `telegram` API against the in-process sandbox (127.0.0.1
//! only), for sessions stored as tgsess SQLite, Telethon SQLite, Pyrogram SQLite and a
//! Telethon string file. After each login or logout the file is re-read in its own format.

mod telegram_common;

use telegram_common::*;
use tgsess::secret::SecretString;
use tgsess::store::{self, Format};
use tgsess::telegram::{
    self, Edit2faFlow, Edit2faStep, ForkFlow, ForkStep, PasswordChange, PhoneFlow, PhonePrompt,
    PhoneStep, PromptError, QrFlow, QrStep, TgError,
};

// ---------------------------------------------------------------------------------------------
// Phone login (each format)

/// The file, re-read, is in its format, carries the user id where the format has one, and
/// a new connection over it is logged in as `me`. Returns that connection.
async fn assert_file_logged_in(
    h: &Harness,
    path: &std::path::Path,
    format: Format,
    me: &telegram::Me,
) -> telegram::Connection {
    let loaded = reread(path, format);
    assert!(loaded.session.has_key());
    if format != Format::TelethonString {
        // A Telethon string holds only DC, address, port and key.
        assert_eq!(loaded.session.user_id, Some(me.user_id));
    }
    let conn = h.open(path);
    assert_eq!(
        within(telegram::whoami(&conn)).await.unwrap().user_id,
        me.user_id
    );
    conn
}

async fn phone_login_with_resend_then_logout(format: Format) {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(format, "alice");
    let mut flow = PhoneFlow::new(conn.clone());
    let step = within(flow.start("+999 662 1111")).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::Code { sent, error: None }) = step else {
        panic!("expected a code prompt, got {step:?}")
    };
    assert_eq!(sent.length, Some(5));
    assert_eq!(sent.delivery, telegram::CodeDelivery::App);
    assert_eq!(sent.next, Some(telegram::CodeDelivery::Sms));

    let step = within(flow.resend()).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::Code { sent, error: None }) = step else {
        panic!("expected a code prompt after resend, got {step:?}")
    };
    assert_eq!(sent.delivery, telegram::CodeDelivery::Sms);
    let code = h
        .sandbox
        .last_code("9996621111")
        .expect("a code in the outbox");
    assert_eq!(code, "22222");

    let me = expect_done(within(flow.enter_code(SecretString::new(code))).await);
    assert_eq!(me.first_name.as_deref(), Some("Alice"));
    assert!(!me.is_bot);

    drop(flow);
    drop(conn);
    let conn = assert_file_logged_in(&h, &path, format, &me).await;
    within(telegram::logout(&conn)).await.unwrap();
    drop(conn);
    let loaded = reread(&path, format);
    assert!(
        !loaded.session.has_key() || loaded.session.auth_key().unwrap().is_all_zero(),
        "the key must be gone after logout"
    );
    let conn = h.open(&path);
    assert!(!within(telegram::is_authorized(&conn)).await.unwrap());
}

async fn phone_login_with_two_step(format: Format) {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(format, "bob");
    let mut flow = PhoneFlow::new(conn.clone());
    within(flow.start("+9996622222")).await.unwrap();
    let step = within(flow.enter_code(SecretString::new("22222")))
        .await
        .unwrap();
    let PhoneStep::Ask(PhonePrompt::Password(prompt)) = step else {
        panic!("expected a password prompt, got {step:?}")
    };
    assert_eq!(prompt.hint.as_deref(), Some("the usual"));
    assert_eq!(prompt.failed_attempts, 0);

    let step = within(flow.enter_password(SecretString::new("wrong")))
        .await
        .unwrap();
    let PhoneStep::Ask(PhonePrompt::Password(prompt)) = step else {
        panic!("expected the password prompt again, got {step:?}")
    };
    assert_eq!(prompt.error, Some(TgError::InvalidPassword));
    assert_eq!(prompt.failed_attempts, 1);

    let me = expect_done(within(flow.enter_password(SecretString::new("sandbox"))).await);
    assert_eq!(me.first_name.as_deref(), Some("Bob"));
    drop(flow);
    drop(conn);
    assert_file_logged_in(&h, &path, format, &me).await;
}

async fn phone_login_migrates_to_dc4(format: Format) {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(format, "carol");
    let mut flow = PhoneFlow::new(conn.clone());
    within(flow.start("+9996641111")).await.unwrap();
    let me = expect_done(within(flow.enter_code(SecretString::new("44444"))).await);
    assert_eq!(me.first_name.as_deref(), Some("Carol"));
    drop(flow);
    drop(conn);
    let loaded = reread(&path, format);
    assert_eq!(loaded.session.dc_id, 4);
    let conn = h.open(&path);
    assert_eq!(
        within(telegram::whoami(&conn)).await.unwrap().user_id,
        me.user_id
    );
}

async fn bot_login_and_bad_token(format: Format) {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(format, "bot");
    let err = within(telegram::bot_login(&conn, &SecretString::new("1:nope")))
        .await
        .unwrap_err();
    assert_eq!(err, TgError::AccessTokenInvalid);
    let me = within(telegram::bot_login(
        &conn,
        &SecretString::new("123456:SANDBOX-demo-bot-token"),
    ))
    .await
    .unwrap();
    assert!(me.is_bot);
    drop(conn);
    if matches!(
        format,
        Format::PyrogramSqlite(_) | Format::TgsessSqlite | Format::TgsessString
    ) {
        // Telethon's formats have no bot flag.
        assert_eq!(reread(&path, format).session.is_bot, Some(true));
    }
    let conn = assert_file_logged_in(&h, &path, format, &me).await;
    assert!(within(telegram::whoami(&conn)).await.unwrap().is_bot);
}

macro_rules! per_format {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn tgsess_sqlite() { super::$test(Format::TgsessSqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn telethon_sqlite() { super::$test(Format::TelethonSqlite(7)).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn pyrogram_sqlite() { super::$test(Format::PyrogramSqlite(7)).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn telethon_string() { super::$test(Format::TelethonString).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn tgsess_string() { super::$test(Format::TgsessString).await }
            }
        )*
    };
}

per_format!(
    phone_login_with_resend_then_logout,
    phone_login_with_two_step,
    phone_login_migrates_to_dc4,
    bot_login_and_bad_token,
    qr_login_accepted_by_a_second_client,
    fork_makes_a_new_key_for_the_same_account,
);

// ---------------------------------------------------------------------------------------------
// Error paths (tgsess SQLite)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_code_is_typed_and_can_be_retried() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    let mut flow = PhoneFlow::new(conn);
    within(flow.start("9996621111")).await.unwrap();
    let step = within(flow.enter_code(SecretString::new("12345")))
        .await
        .unwrap();
    let PhoneStep::Ask(PhonePrompt::Code { error, .. }) = step else {
        panic!("{step:?}")
    };
    assert_eq!(error, Some(PromptError(TgError::InvalidCode)));
    expect_done(within(flow.enter_code(SecretString::new("22222"))).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_phone_is_typed() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    let err = within(PhoneFlow::new(conn).start("1234"))
        .await
        .unwrap_err();
    assert_eq!(err, TgError::PhoneInvalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banned_number_is_typed() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    // The sandbox's convention: test numbers ending in 9999 are banned.
    let err = within(PhoneFlow::new(conn).start("+9996629999"))
        .await
        .unwrap_err();
    assert_eq!(err, TgError::PhoneBanned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_code_requests_give_flood_wait_with_seconds() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    let mut last = None;
    for _ in 0..8 {
        match within(PhoneFlow::new(conn.clone()).start("9996621111")).await {
            Ok(_) => continue,
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    match last {
        Some(TgError::FloodWait { seconds }) => assert!(seconds > 3, "{seconds}"),
        other => panic!("expected FLOOD_WAIT, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_a_new_number_with_name_checks() {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(Format::TgsessSqlite, "new");
    let mut flow = PhoneFlow::new(conn.clone());
    let step = within(flow.start("+9996627777")).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::Code { sent, .. }) = step else {
        panic!("{step:?}")
    };
    assert_eq!(sent.delivery, telegram::CodeDelivery::Sms);
    let step = within(flow.enter_code(SecretString::new("22222")))
        .await
        .unwrap();
    assert!(
        matches!(step, PhoneStep::Ask(PhonePrompt::Names { error: None })),
        "{step:?}"
    );
    let long = "x".repeat(65);
    let step = within(flow.enter_names(&long, "")).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::Names { error }) = step else {
        panic!("{step:?}")
    };
    assert_eq!(error, Some(PromptError(TgError::FirstNameInvalid)));
    let me = expect_done(within(flow.enter_names("Grace", "Hopper")).await);
    assert_eq!(me.last_name.as_deref(), Some("Hopper"));
    drop(flow);
    drop(conn);
    assert_eq!(
        reread(&path, Format::TgsessSqlite).session.user_id,
        Some(me.user_id)
    );
}

// ---------------------------------------------------------------------------------------------
// QR login

async fn qr_login_accepted_by_a_second_client(format: Format) {
    let h = Harness::start().await;
    let phone_conn = h.login_phone("9996621111", "22222", None).await;
    let (path, conn) = h.new_session(format, "qr");
    let mut flow = QrFlow::new(conn.clone(), Vec::new());
    let QrStep::Show { url, .. } = within(flow.next()).await.unwrap() else {
        panic!("expected a QR")
    };
    assert!(url.starts_with("tg://login?token="));
    within(telegram::accept_login_url(&phone_conn, &url))
        .await
        .unwrap();
    let step = within(flow.next()).await.unwrap();
    let QrStep::Done(me) = step else {
        panic!("{step:?}")
    };
    assert_eq!(me.first_name.as_deref(), Some("Alice"));
    drop(flow);
    drop(conn);
    assert_file_logged_in(&h, &path, format, &me).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_with_two_step_goes_on_to_the_password() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "qr2");
    let mut flow = QrFlow::new(conn, Vec::new());
    let QrStep::Show { url, .. } = within(flow.next()).await.unwrap() else {
        panic!("expected a QR")
    };
    h.sandbox.accept_qr("9996622222", &url).unwrap();
    let step = within(flow.next()).await.unwrap();
    let QrStep::Password(prompt) = step else {
        panic!("{step:?}")
    };
    assert_eq!(prompt.hint.as_deref(), Some("the usual"));
    let step = within(flow.enter_password(SecretString::new("sandbox")))
        .await
        .unwrap();
    let QrStep::Done(me) = step else {
        panic!("{step:?}")
    };
    assert_eq!(me.first_name.as_deref(), Some("Bob"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_migrates_to_the_accounts_dc() {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(Format::TgsessSqlite, "qr1");
    let mut flow = QrFlow::new(conn.clone(), Vec::new());
    let QrStep::Show { url, .. } = within(flow.next()).await.unwrap() else {
        panic!("expected a QR")
    };
    h.sandbox.accept_qr("9996611111", &url).unwrap();
    let QrStep::Done(me) = within(flow.next()).await.unwrap() else {
        panic!("expected the login to finish")
    };
    assert_eq!(me.first_name.as_deref(), Some("Dave"));
    drop(flow);
    drop(conn);
    assert_eq!(reread(&path, Format::TgsessSqlite).session.dc_id, 1);
}

// ---------------------------------------------------------------------------------------------
// Edit 2FA

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_change_and_disable_two_step() {
    let h = Harness::start().await;
    let conn = h.login_phone("9996621111", "22222", None).await;
    let enable = PasswordChange::Enable {
        new: SecretString::new("first"),
        hint: Some("one".into()),
        email: None,
    };
    assert!(matches!(
        within(Edit2faFlow::new(conn.clone()).start(enable.clone())).await,
        Ok(Edit2faStep::Done)
    ));
    // Enabling again is refused before any change.
    let err = within(Edit2faFlow::new(conn.clone()).start(enable))
        .await
        .unwrap_err();
    assert!(matches!(err, TgError::PasswordState(_)), "{err:?}");

    // A fresh login now needs the new password.
    let other = h.login_phone("9996621111", "22222", Some("first")).await;
    drop(other);

    let wrong = PasswordChange::Change {
        current: SecretString::new("nope"),
        new: SecretString::new("second"),
        hint: None,
        email: None,
    };
    let err = within(Edit2faFlow::new(conn.clone()).start(wrong))
        .await
        .unwrap_err();
    assert_eq!(err, TgError::InvalidPassword);
    let change = PasswordChange::Change {
        current: SecretString::new("first"),
        new: SecretString::new("second"),
        hint: Some("two".into()),
        email: None,
    };
    assert!(matches!(
        within(Edit2faFlow::new(conn.clone()).start(change)).await,
        Ok(Edit2faStep::Done)
    ));
    let other = h.login_phone("9996621111", "22222", Some("second")).await;
    drop(other);

    let disable = PasswordChange::Disable {
        current: SecretString::new("second"),
    };
    assert!(matches!(
        within(Edit2faFlow::new(conn.clone()).start(disable)).await,
        Ok(Edit2faStep::Done)
    ));
    let other = h.login_phone("9996621111", "22222", None).await;
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_email_needs_the_emailed_code() {
    let h = Harness::start().await;
    let conn = h.login_phone("9996621111", "22222", None).await;
    let mut flow = Edit2faFlow::new(conn.clone());
    let step = within(flow.start(PasswordChange::Enable {
        new: SecretString::new("pw"),
        hint: None,
        email: Some("alice@sandbox.invalid".into()),
    }))
    .await
    .unwrap();
    let Edit2faStep::EmailCode(prompt) = step else {
        panic!("{step:?}")
    };
    assert!(prompt.code_length > 0);
    let step = within(flow.enter_email_code(SecretString::new("000000")))
        .await
        .unwrap();
    let Edit2faStep::EmailCode(prompt) = step else {
        panic!("{step:?}")
    };
    assert!(prompt.error.is_some());
    let step = within(flow.resend_email()).await.unwrap();
    assert!(matches!(step, Edit2faStep::EmailCode(_)));
    let code = h
        .sandbox
        .last_code("alice@sandbox.invalid")
        .expect("an emailed code");
    let step = within(flow.enter_email_code(SecretString::new(code)))
        .await
        .unwrap();
    assert!(matches!(step, Edit2faStep::Done));
    let other = h.login_phone("9996621111", "22222", Some("pw")).await;
    drop(other);
}

// ---------------------------------------------------------------------------------------------
// Devices, fork, copy, lock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorizations_list_and_terminate() {
    let h = Harness::start().await;
    let first = h.login_phone("9996621111", "22222", None).await;
    let second = h.login_phone("9996621111", "22222", None).await;
    let devices = within(telegram::authorizations(&first)).await.unwrap();
    assert!(devices.len() >= 2, "{devices:?}");
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    let other = devices.iter().find(|d| !d.current).unwrap();
    within(telegram::terminate(&first, other.hash))
        .await
        .unwrap();
    assert!(!within(telegram::is_authorized(&second)).await.unwrap());
    assert!(within(telegram::is_authorized(&first)).await.unwrap());

    let third = h.login_phone("9996621111", "22222", None).await;
    within(telegram::terminate_others(&first)).await.unwrap();
    assert!(!within(telegram::is_authorized(&third)).await.unwrap());
    assert_eq!(
        within(telegram::authorizations(&first))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn fork_makes_a_new_key_for_the_same_account(format: Format) {
    let h = Harness::start().await;
    let source = h.login_phone("9996621111", "22222", None).await;
    let (path, target) = h.new_session(format, "fork");
    let mut flow = ForkFlow::new(source.clone(), target.clone());
    let ForkStep::Done(me) = within(flow.start()).await.unwrap() else {
        panic!("no 2FA on this account")
    };
    drop(flow);
    drop(target);
    let forked = reread(&path, format);
    let source_key = source.session().snapshot().auth_key().cloned().unwrap();
    assert_ne!(
        forked.session.auth_key().unwrap().key_id(),
        source_key.key_id()
    );
    // Both logins work independently.
    assert!(within(telegram::is_authorized(&source)).await.unwrap());
    assert_file_logged_in(&h, &path, format, &me).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_of_a_two_step_account_asks_the_password() {
    let h = Harness::start().await;
    let source = h.login_phone("9996622222", "22222", Some("sandbox")).await;
    let (_, target) = h.new_session(Format::TgsessSqlite, "fork");
    let mut flow = ForkFlow::new(source, target);
    let step = within(flow.start()).await.unwrap();
    assert!(matches!(step, ForkStep::Password(_)), "{step:?}");
    let step = within(flow.enter_password(SecretString::new("sandbox")))
        .await
        .unwrap();
    assert!(matches!(step, ForkStep::Done(_)), "{step:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_shares_the_key_and_the_lock_stops_concurrent_use() {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(Format::TgsessSqlite, "orig");
    let mut flow = PhoneFlow::new(conn.clone());
    within(flow.start("9996621111")).await.unwrap();
    let me = expect_done(within(flow.enter_code(SecretString::new("22222"))).await);
    drop(flow);

    // The same file twice: refused with our PID.
    match telegram::Connection::open_file(&path, &h.options()) {
        Err(TgError::InUse { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("the second open must fail"),
    }
    // A copy (same key, another format and file): refused too, by the key lock.
    let copy = h.dir.path().join("copy.string");
    let session = store::read_file(&path).unwrap().session;
    let (prepared, _) =
        store::convert::prepare(&session, Format::TelethonString, &Default::default()).unwrap();
    store::write_file(&copy, &prepared, Format::TelethonString).unwrap();
    assert!(matches!(
        telegram::Connection::open_file(&copy, &h.options()),
        Err(TgError::InUse { .. })
    ));
    // Once the first connection is gone, the copy works and is the same account.
    drop(conn);
    let conn = h.open(&copy);
    assert_eq!(
        within(telegram::whoami(&conn)).await.unwrap().user_id,
        me.user_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_past_the_limit_keeps_the_old_code_usable() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    let mut flow = PhoneFlow::new(conn);
    within(flow.start("9996621111")).await.unwrap();
    let mut refused = None;
    for _ in 0..5 {
        let step = within(flow.resend()).await.unwrap();
        let PhoneStep::Ask(PhonePrompt::Code { error, .. }) = step else {
            panic!("{step:?}")
        };
        if let Some(PromptError(e)) = error {
            refused = Some(e);
            break;
        }
    }
    let refused = refused.expect("the sandbox limits resends");
    assert!(refused.is_rpc("SEND_CODE_UNAVAILABLE"), "{refused:?}");
    expect_done(within(flow.enter_code(SecretString::new("22222"))).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_wrong_passwords_end_in_flood_wait() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "a");
    let mut flow = PhoneFlow::new(conn);
    within(flow.start("9996622222")).await.unwrap();
    within(flow.enter_code(SecretString::new("22222")))
        .await
        .unwrap();
    let mut outcome = None;
    for _ in 0..10 {
        match within(flow.enter_password(SecretString::new("wrong"))).await {
            Ok(PhoneStep::Ask(PhonePrompt::Password(_))) => continue,
            other => {
                outcome = Some(other);
                break;
            }
        }
    }
    match outcome {
        Some(Err(TgError::FloodWait { seconds })) => assert!(seconds > 3, "{seconds}"),
        other => panic!("expected FLOOD_WAIT, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_url_accepted_twice_is_refused_with_its_rpc_name() {
    let h = Harness::start().await;
    let phone_conn = h.login_phone("9996621111", "22222", None).await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "qr");
    let mut flow = QrFlow::new(conn, Vec::new());
    let QrStep::Show { url, .. } = within(flow.next()).await.unwrap() else {
        panic!("expected a QR")
    };
    within(telegram::accept_login_url(&phone_conn, &url))
        .await
        .unwrap();
    let err = within(telegram::accept_login_url(&phone_conn, &url))
        .await
        .unwrap_err();
    assert!(err.is_rpc("AUTH_TOKEN_ALREADY_ACCEPTED"), "{err:?}");
    let err = within(telegram::accept_login_url(&phone_conn, "https://t.me/x"))
        .await
        .unwrap_err();
    assert!(matches!(err, TgError::Config(_)), "{err:?}");
}

/// Real time: tokens here live 5 s (Tuning), so this test waits for one refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_token_is_refreshed_before_it_expires_and_the_new_one_works() {
    // Short-lived tokens, so the refresh happens within seconds rather than Telegram's 30.
    let h = Harness::start_tuned(Tuning {
        login_token_ttl: std::time::Duration::from_secs(5),
        ..Tuning::default()
    })
    .await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "qr");
    let mut flow = QrFlow::new(conn, Vec::new());
    let QrStep::Show {
        url: first,
        expires,
    } = within(flow.next()).await.unwrap()
    else {
        panic!("expected a QR")
    };
    let shown_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let lifetime = expires - shown_at;
    let step = tokio::time::timeout(
        std::time::Duration::from_secs(lifetime.max(1) as u64 + 10),
        flow.next(),
    )
    .await
    .expect("a new QR before the old one expired")
    .unwrap();
    let QrStep::Show { url: second, .. } = step else {
        panic!("{step:?}")
    };
    assert_ne!(first, second);
    let refreshed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(refreshed_at < expires, "refreshed only after expiry");
    h.sandbox.accept_qr("9996621111", &second).unwrap();
    assert!(matches!(
        within(flow.next()).await.unwrap(),
        QrStep::Done(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_on_another_dc_follows_user_migrate() {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(Format::PyrogramSqlite(7), "bot4");
    let me = within(telegram::bot_login(
        &conn,
        &SecretString::new("654321:SANDBOX-dc4-bot-token"),
    ))
    .await
    .unwrap();
    assert!(me.is_bot);
    drop(conn);
    let loaded = reread(&path, Format::PyrogramSqlite(7));
    assert_eq!(loaded.session.dc_id, 4);
    assert_eq!(loaded.session.is_bot, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_waiting_flow_cancels_it_and_frees_the_session() {
    let h = Harness::start().await;
    let (path, conn) = h.new_session(Format::TgsessSqlite, "esc");
    let mut flow = QrFlow::new(conn.clone(), Vec::new());
    assert!(matches!(
        within(flow.next()).await.unwrap(),
        QrStep::Show { .. }
    ));
    // Esc: the wait for the scan is abandoned when its future is dropped.
    let waited = tokio::time::timeout(std::time::Duration::from_millis(200), flow.next()).await;
    assert!(
        waited.is_err(),
        "nobody scanned, so the wait cannot have finished"
    );
    drop(flow);
    // The connection still answers, and once dropped the file can be opened again.
    assert!(!within(telegram::is_authorized(&conn)).await.unwrap());
    drop(conn);
    let again = h.open(&path);
    assert!(!within(telegram::is_authorized(&again)).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgotten_password_is_reset_through_the_recovery_email() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "bob");
    let mut flow = PhoneFlow::new(conn);
    within(flow.start("9996622222")).await.unwrap();
    let step = within(flow.enter_code(SecretString::new("22222")))
        .await
        .unwrap();
    assert!(
        matches!(step, PhoneStep::Ask(PhonePrompt::Password(_))),
        "{step:?}"
    );
    let step = within(flow.request_recovery()).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::RecoveryCode(prompt)) = step else {
        panic!("{step:?}")
    };
    assert!(
        prompt.email_pattern.contains('@'),
        "{}",
        prompt.email_pattern
    );
    assert!(
        !prompt.email_pattern.contains("bob@"),
        "the address is partly hidden"
    );
    let step = within(flow.enter_recovery_code(SecretString::new("000000")))
        .await
        .unwrap();
    let PhoneStep::Ask(PhonePrompt::RecoveryCode(prompt)) = step else {
        panic!("{step:?}")
    };
    assert!(prompt.error.is_some());
    let code = h
        .sandbox
        .last_code("bob@sandbox.invalid")
        .expect("an emailed recovery code");
    let me = expect_done(within(flow.enter_recovery_code(SecretString::new(code))).await);
    assert_eq!(me.first_name.as_deref(), Some("Bob"));
    // The password is gone: the next login asks none.
    drop(h.login_phone("9996622222", "22222", None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_without_an_email_returns_to_the_password_prompt() {
    let h = Harness::start().await;
    h.sandbox
        .add_user(tgsess::sandbox::NewUser::new("9996625555", "Eve").with_password("pw", None))
        .unwrap();
    let (_, conn) = h.new_session(Format::TgsessSqlite, "eve");
    let mut flow = PhoneFlow::new(conn);
    within(flow.start("9996625555")).await.unwrap();
    within(flow.enter_code(SecretString::new("22222")))
        .await
        .unwrap();
    let step = within(flow.request_recovery()).await.unwrap();
    let PhoneStep::Ask(PhonePrompt::Password(prompt)) = step else {
        panic!("{step:?}")
    };
    let error = prompt.error.expect("why recovery failed");
    assert!(error.is_rpc("PASSWORD_RECOVERY_NA"), "{error:?}");
    expect_done(within(flow.enter_password(SecretString::new("pw"))).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_can_reset_a_forgotten_password_too() {
    let h = Harness::start().await;
    let (_, conn) = h.new_session(Format::TgsessSqlite, "qr");
    let mut flow = QrFlow::new(conn, Vec::new());
    let QrStep::Show { url, .. } = within(flow.next()).await.unwrap() else {
        panic!("expected a QR")
    };
    h.sandbox.accept_qr("9996622222", &url).unwrap();
    assert!(matches!(
        within(flow.next()).await.unwrap(),
        QrStep::Password(_)
    ));
    let step = within(flow.request_recovery()).await.unwrap();
    assert!(matches!(step, QrStep::RecoveryCode(_)), "{step:?}");
    let code = h.sandbox.last_code("bob@sandbox.invalid").unwrap();
    let step = within(flow.enter_recovery_code(SecretString::new(code)))
        .await
        .unwrap();
    assert!(matches!(step, QrStep::Done(_)), "{step:?}");
}

/// A minimal SOCKS5 proxy on 127.0.0.1 (no auth, CONNECT only) that counts its tunnels.
async fn socks5_proxy() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 2];
                client.read_exact(&mut head).await?;
                let mut methods = vec![0u8; head[1] as usize];
                client.read_exact(&mut methods).await?;
                client.write_all(&[5, 0]).await?;
                let mut req = [0u8; 4];
                client.read_exact(&mut req).await?;
                assert_eq!(req[3], 1, "the test proxy only knows IPv4 targets");
                let mut ip = [0u8; 4];
                client.read_exact(&mut ip).await?;
                let port = client.read_u16().await?;
                let target = std::net::SocketAddr::from((ip, port));
                assert!(target.ip().is_loopback(), "tests only reach 127.0.0.1");
                let mut upstream = tokio::net::TcpStream::connect(target).await?;
                client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
                Ok::<_, std::io::Error>(())
            });
        }
    });
    (addr, tunnels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_through_a_socks5_proxy() {
    let h = Harness::start().await;
    let (proxy, tunnels) = socks5_proxy().await;
    let mut options = h.options();
    options.proxy = Some(format!("socks5://{proxy}"));
    let session = h.sandbox.new_session(2).unwrap();
    let conn = telegram::Connection::open(
        tgsess::store::adapter::StoredSession::new(
            session,
            tgsess::store::adapter::Backend::Memory,
        ),
        &options,
    )
    .unwrap();
    let mut flow = PhoneFlow::new(conn.clone());
    within(flow.start("9996621111")).await.unwrap();
    expect_done(within(flow.enter_code(SecretString::new("22222"))).await);
    assert!(tunnels.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
