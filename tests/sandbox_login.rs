//! Phone and bot login through the real grammers client against the sandbox.

mod sandbox_support;

use std::sync::Arc;

use grammers_client::SignInError;
use grammers_client::tl;
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use grammers_session::{Session as _, SessionData};
use sandbox_support::*;
use tgsess::sandbox::{NewUser, SANDBOX_API_HASH, SANDBOX_API_ID};

#[tokio::test]
async fn fresh_stored_session_connects_and_is_not_authorized() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    assert!(
        !within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    // getConfig kept every DC on 127.0.0.1 with its key.
    let s = tc.session.snapshot();
    for dc in sb.dc_ids() {
        let entry = s.dc(dc).unwrap();
        assert_eq!(entry.ipv4, Some(std::net::Ipv4Addr::LOCALHOST));
        assert_eq!(entry.port, Some(sb.dc_addr(dc).port()));
        assert!(entry.auth_key.is_some());
    }
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn grammers_memory_session_with_provisioned_keys_works_too() {
    let sb = seeded().await;
    let provisioned = sb.new_session(2).unwrap();
    let mut data = SessionData {
        home_dc: 2,
        ..SessionData::default()
    };
    for dc in &provisioned.dcs {
        let addr = std::net::SocketAddrV4::new(dc.ipv4.unwrap(), dc.port.unwrap());
        data.dc_options.insert(
            dc.id,
            DcOption {
                id: dc.id,
                ipv4: addr,
                ipv6: std::net::SocketAddrV6::new(addr.ip().to_ipv6_mapped(), addr.port(), 0, 0),
                auth_key: dc.auth_key.as_ref().map(|k| *k.reveal()),
            },
        );
    }
    let session = Arc::new(MemorySession::from(data));
    let pool = grammers_client::SenderPool::new(Arc::clone(&session), SANDBOX_API_ID);
    let client = grammers_client::Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    assert!(
        !within("is_authorized", client.is_authorized())
            .await
            .unwrap()
    );
    let token = within(
        "code",
        client.request_login_code("+9996621111", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let user = within("sign_in", client.sign_in(&token, "22222"))
        .await
        .unwrap();
    assert_eq!(user.first_name(), Some("Alice"));
    assert_eq!(session.home_dc_id().unwrap(), 2);
    client.disconnect();
    within("runner", runner).await.unwrap();
    sb.stop().await;
}

#[tokio::test]
async fn phone_login_get_me_and_logout() {
    let sb = seeded().await;
    let tc = phone_login(&sb, "+9996621111", 2).await;
    assert!(
        within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    let me = within("get_me", tc.client.get_me()).await.unwrap();
    assert_eq!(me.first_name(), Some("Alice"));
    assert_eq!(me.last_name(), Some("Sandbox"));
    assert_eq!(me.phone(), Some("9996621111"));
    assert!(!me.is_bot());
    let s = tc.session.snapshot();
    assert_eq!(s.user_id, Some(me.id().bare_id_unchecked()));
    let outbox = sb.outbox();
    assert_eq!(outbox.last().unwrap().channel, "app");
    assert_eq!(outbox.last().unwrap().code.reveal(), "22222");

    within("sign_out", tc.client.sign_out()).await.unwrap();
    let err = within(
        "getState",
        tc.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err), (401, "AUTH_KEY_UNREGISTERED".into(), None));
    assert!(
        !within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn wrong_code_then_right_code() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let token = within(
        "code",
        tc.client.request_login_code("9996621111", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let err = within("bad sign_in", tc.client.sign_in(&token, "12345"))
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCode), "{err}");
    within("sign_in", tc.client.sign_in(&token, "22222"))
        .await
        .unwrap();
    // A used code cannot log in again.
    let err = within("reuse", tc.client.sign_in(&token, "22222"))
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCode), "{err}");
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn invalid_phone_and_api_id_are_refused() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let err = within(
        "bad phone",
        tc.client.request_login_code("12ab", SANDBOX_API_HASH),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(rpc_error(&err).1, "PHONE_NUMBER_INVALID");
    let err = within("empty hash", tc.client.request_login_code("9996621111", ""))
        .await
        .err()
        .unwrap();
    assert_eq!(rpc_error(&err).1, "API_ID_INVALID");
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn phone_login_begun_on_the_wrong_dc_migrates() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    // Raw sendCode on DC 2 first shows the error itself.
    let raw = tl::functions::auth::SendCode {
        phone_number: "9996641111".into(),
        api_id: SANDBOX_API_ID,
        api_hash: SANDBOX_API_HASH.into(),
        settings: code_settings(),
    };
    let err = within("raw sendCode", tc.client.invoke(&raw))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err), (303, "PHONE_MIGRATE".into(), Some(4)));
    // grammers follows it: home DC becomes 4 and signIn works there.
    let token = within(
        "code",
        tc.client.request_login_code("9996641111", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    assert_eq!(tc.home_dc(), 4);
    let me = within("sign_in", tc.client.sign_in(&token, "44444"))
        .await
        .unwrap();
    assert_eq!(me.first_name(), Some("Carol"));
    assert!(
        within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn unknown_number_signs_up_through_raw_sign_up() {
    let sb = seeded().await;
    let tc = client(&sb, 3);
    let phone = "9996635555";
    let token = within(
        "code",
        tc.client.request_login_code(phone, SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    assert_eq!(sb.outbox().last().unwrap().channel, "sms");
    let err = within("sign_in", tc.client.sign_in(&token, "33333"))
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::SignUpRequired), "{err}");
    // resendCode without a hash is refused.
    let sent = within(
        "resend without hash",
        tc.client.invoke(&tl::functions::auth::ResendCode {
            phone_number: phone.into(),
            phone_code_hash: String::new(),
            reason: None,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&sent).1, "PHONE_CODE_HASH_EMPTY");
    // grammers has no sign-up helper and keeps its hash private: go raw from sendCode on.
    let raw_send = tl::functions::auth::SendCode {
        phone_number: phone.into(),
        api_id: SANDBOX_API_ID,
        api_hash: SANDBOX_API_HASH.into(),
        settings: code_settings(),
    };
    let tl::enums::auth::SentCode::Code(sent) = within("raw sendCode", tc.client.invoke(&raw_send))
        .await
        .unwrap()
    else {
        panic!("expected auth.sentCode");
    };
    let hash = sent.phone_code_hash;
    let sign_in = tl::functions::auth::SignIn {
        phone_number: phone.into(),
        phone_code_hash: hash.clone(),
        phone_code: Some("33333".into()),
        email_verification: None,
    };
    let answer = within("raw signIn", tc.client.invoke(&sign_in))
        .await
        .unwrap();
    assert!(matches!(
        answer,
        tl::enums::auth::Authorization::SignUpRequired(_)
    ));
    let sign_up = |first: &str| tl::functions::auth::SignUp {
        no_joined_notifications: false,
        phone_number: phone.into(),
        phone_code_hash: hash.clone(),
        first_name: first.into(),
        last_name: "Newcomer".into(),
    };
    let err = within("bad signUp", tc.client.invoke(&sign_up("   ")))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err).1, "FIRSTNAME_INVALID");
    let tl::enums::auth::Authorization::Authorization(auth) =
        within("signUp", tc.client.invoke(&sign_up("Erin")))
            .await
            .unwrap()
    else {
        panic!("expected auth.authorization");
    };
    let tl::enums::User::User(user) = auth.user else {
        panic!("expected a user");
    };
    assert!(user.is_self && user.access_hash.is_some());
    assert_eq!(user.first_name.as_deref(), Some("Erin"));
    assert!(
        within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    let err = within("occupied", tc.client.invoke(&sign_up("Erin")))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err).1, "PHONE_CODE_EXPIRED");
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn too_many_code_requests_flood_wait() {
    let sb = seeded().await;
    sb.add_user(NewUser::new("+15550001234", "Flo")).unwrap();
    let tc = client(&sb, 2);
    for _ in 0..5 {
        within(
            "code",
            tc.client
                .request_login_code("15550001234", SANDBOX_API_HASH),
        )
        .await
        .unwrap();
    }
    let err = within(
        "6th code",
        tc.client
            .request_login_code("15550001234", SANDBOX_API_HASH),
    )
    .await
    .err()
    .unwrap();
    let (code, name, secs) = rpc_error(&err);
    assert_eq!((code, name.as_str()), (420, "FLOOD_WAIT"));
    assert!(secs.unwrap() > 60 && secs.unwrap() <= 600, "{secs:?}");
    // Random codes for numbers outside the test convention.
    let codes: Vec<String> = sb
        .outbox()
        .iter()
        .map(|e| e.code.reveal().to_string())
        .collect();
    assert_eq!(codes.len(), 5);
    assert!(codes.iter().all(|c| c.len() == 5));
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn bot_login_with_migration_and_bad_token() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let err = within(
        "bad token",
        tc.client.bot_sign_in("123456:wrong", SANDBOX_API_HASH),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(rpc_error(&err).1, "ACCESS_TOKEN_INVALID");
    let bot = within(
        "bot_sign_in",
        tc.client
            .bot_sign_in("654321:SANDBOX-dc4-bot-token", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    assert!(bot.is_bot());
    assert_eq!(bot.id().bare_id_unchecked(), 654321);
    assert_eq!(tc.home_dc(), 4);
    let me = within("get_me", tc.client.get_me()).await.unwrap();
    assert_eq!(me.first_name(), Some("Faraway Bot"));
    tc.quit().await;

    let tc = client(&sb, 2);
    let bot = within(
        "bot_sign_in",
        tc.client
            .bot_sign_in("123456:SANDBOX-demo-bot-token", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    assert_eq!(bot.first_name(), Some("Sandbox Bot"));
    assert_eq!(tc.session.snapshot().is_bot, Some(true));
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn resend_and_cancel_code() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let settings = tl::types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        logout_tokens: None,
        token: None,
        app_sandbox: None,
        unknown_number: false,
    };
    let send = tl::functions::auth::SendCode {
        phone_number: "9996621111".into(),
        api_id: SANDBOX_API_ID,
        api_hash: SANDBOX_API_HASH.into(),
        settings: settings.into(),
    };
    let tl::enums::auth::SentCode::Code(sent) =
        within("sendCode", tc.client.invoke(&send)).await.unwrap()
    else {
        panic!("expected auth.sentCode");
    };
    assert!(matches!(
        sent.r#type,
        tl::enums::auth::SentCodeType::App(tl::types::auth::SentCodeTypeApp { length: 5 })
    ));
    assert!(matches!(
        sent.next_type,
        Some(tl::enums::auth::CodeType::Sms)
    ));
    let resend = tl::functions::auth::ResendCode {
        phone_number: "9996621111".into(),
        phone_code_hash: sent.phone_code_hash.clone(),
        reason: None,
    };
    for _ in 0..2 {
        let tl::enums::auth::SentCode::Code(again) =
            within("resendCode", tc.client.invoke(&resend))
                .await
                .unwrap()
        else {
            panic!("expected auth.sentCode");
        };
        assert_eq!(again.phone_code_hash, sent.phone_code_hash);
        assert!(matches!(
            again.r#type,
            tl::enums::auth::SentCodeType::Sms(_)
        ));
    }
    let channels: Vec<String> = sb.outbox().iter().map(|e| e.channel.clone()).collect();
    assert_eq!(channels, ["app", "sms", "sms"]);
    let err = within("4th send", tc.client.invoke(&resend))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err), (406, "SEND_CODE_UNAVAILABLE".into(), None));

    assert!(
        within(
            "cancelCode",
            tc.client.invoke(&tl::functions::auth::CancelCode {
                phone_number: "9996621111".into(),
                phone_code_hash: sent.phone_code_hash.clone(),
            }),
        )
        .await
        .unwrap()
    );
    let err = within(
        "signIn after cancel",
        tc.client.invoke(&tl::functions::auth::SignIn {
            phone_number: "9996621111".into(),
            phone_code_hash: sent.phone_code_hash,
            phone_code: Some("22222".into()),
            email_verification: None,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "PHONE_CODE_EXPIRED");
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn logins_survive_a_restart_on_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = || tgsess::sandbox::SandboxConfig {
        state_dir: Some(dir.path().to_path_buf()),
        seed: true,
        base_port: 0,
    };
    let sb = tgsess::sandbox::Sandbox::start(config()).await.unwrap();
    let ports: Vec<_> = sb.dc_ids().iter().map(|dc| sb.dc_addr(*dc)).collect();
    let tc = phone_login(&sb, "9996621111", 2).await;
    let saved = tc.session.snapshot();
    tc.quit().await;
    sb.stop().await;

    let sb = tgsess::sandbox::Sandbox::start(config()).await.unwrap();
    let again: Vec<_> = sb.dc_ids().iter().map(|dc| sb.dc_addr(*dc)).collect();
    assert_eq!(ports, again, "the recorded ports are reused");
    let tc = client_for(Arc::new(tgsess::store::adapter::StoredSession::new(
        saved,
        tgsess::store::adapter::Backend::Memory,
    )));
    let me = within("get_me", tc.client.get_me()).await.unwrap();
    assert_eq!(me.first_name(), Some("Alice"));
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn short_flood_waits_are_slept_through_by_grammers() {
    // With a 2-second window the 3rd request gets FLOOD_WAIT_1 or _2, which grammers'
    // AutoSleep waits out and retries once (it only surfaces waits above 60 s).
    let sb = tgsess::sandbox::Sandbox::start_tuned(
        tgsess::sandbox::SandboxConfig {
            state_dir: None,
            seed: true,
            base_port: 0,
        },
        tgsess::sandbox::Tuning {
            max_code_requests: 2,
            code_window: std::time::Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let tc = client(&sb, 2);
    for _ in 0..3 {
        within(
            "code",
            tc.client.request_login_code("9996621111", SANDBOX_API_HASH),
        )
        .await
        .unwrap();
    }
    assert_eq!(sb.outbox().len(), 3);
    tc.quit().await;
    sb.stop().await;
}

/// Telegram kills a login code after a few wrong guesses: the right code then answers
/// PHONE_CODE_EXPIRED and a new code must be requested.
#[tokio::test]
async fn a_code_dies_after_five_wrong_guesses() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let send = tl::functions::auth::SendCode {
        phone_number: "9996621111".into(),
        api_id: tgsess::sandbox::SANDBOX_API_ID,
        api_hash: SANDBOX_API_HASH.into(),
        settings: code_settings(),
    };
    let sign_in = |hash: &str, code: &str| tl::functions::auth::SignIn {
        phone_number: "9996621111".into(),
        phone_code_hash: hash.into(),
        phone_code: Some(code.into()),
        email_verification: None,
    };
    let hash = |sent| match sent {
        tl::enums::auth::SentCode::Code(c) => c.phone_code_hash,
        other => panic!("unexpected {other:?}"),
    };
    let first = hash(within("sendCode", tc.client.invoke(&send)).await.unwrap());
    for guess in 1..=5 {
        let err = within("wrong code", tc.client.invoke(&sign_in(&first, "12345")))
            .await
            .unwrap_err();
        assert_eq!(rpc_error(&err).1, "PHONE_CODE_INVALID", "guess {guess}");
    }
    let err = within(
        "right code, too late",
        tc.client.invoke(&sign_in(&first, "22222")),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "PHONE_CODE_EXPIRED");
    let second = hash(within("sendCode", tc.client.invoke(&send)).await.unwrap());
    within("sign in", tc.client.invoke(&sign_in(&second, "22222")))
        .await
        .unwrap();
    tc.quit().await;
    sb.stop().await;
}

/// sendCode's settings as grammers sends them (nothing asked for).
fn code_settings() -> tl::enums::CodeSettings {
    tl::types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        unknown_number: false,
        logout_tokens: None,
        token: None,
        app_sandbox: None,
    }
    .into()
}
