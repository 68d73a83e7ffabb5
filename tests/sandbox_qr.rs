//! QR login through grammers' raw calls: export, accept by a second logged-in client
//! (updateLoginToken pushed to the exporter), the 2FA branch, and DC migration.

mod sandbox_support;

use grammers_client::client::PasswordToken;
use grammers_client::tl;
use grammers_session::Session as _;
use grammers_session::updates::UpdatesLike;
use sandbox_support::*;
use tgsess::sandbox::{SANDBOX_API_HASH, SANDBOX_API_ID, qr_url_for_token};

fn export() -> tl::functions::auth::ExportLoginToken {
    tl::functions::auth::ExportLoginToken {
        api_id: SANDBOX_API_ID,
        api_hash: SANDBOX_API_HASH.into(),
        except_ids: Vec::new(),
    }
}

async fn export_token(tc: &TestClient) -> Vec<u8> {
    match within("exportLoginToken", tc.client.invoke(&export()))
        .await
        .unwrap()
    {
        tl::enums::auth::LoginToken::Token(t) => t.token,
        other => panic!("expected a fresh token, got {other:?}"),
    }
}

async fn expect_login_token_update(tc: &mut TestClient) {
    loop {
        let update = within("updateLoginToken", tc.updates.recv())
            .await
            .expect("updates channel open");
        if let UpdatesLike::Updates(tl::enums::Updates::UpdateShort(short)) = update
            && matches!(short.update, tl::enums::Update::LoginToken)
        {
            return;
        }
    }
}

fn user_of(auth: tl::enums::auth::Authorization) -> tl::types::User {
    match auth {
        tl::enums::auth::Authorization::Authorization(a) => match a.user {
            tl::enums::User::User(u) => u,
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn qr_login_accepted_by_a_logged_in_client() {
    let sb = seeded().await;
    let mut exporter = client(&sb, 2);
    let token = export_token(&exporter).await;
    // The client refreshes its QR code; the user scanned the older one.
    let refreshed = export_token(&exporter).await;
    assert_ne!(refreshed, token);
    let scanner = phone_login(&sb, "9996621111", 2).await;

    let err = within(
        "garbage token",
        scanner
            .client
            .invoke(&tl::functions::auth::AcceptLoginToken {
                token: b"not a token".to_vec(),
            }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_TOKEN_INVALID");

    let tl::enums::Authorization::Authorization(new_device) = within(
        "accept",
        scanner
            .client
            .invoke(&tl::functions::auth::AcceptLoginToken {
                token: token.clone(),
            }),
    )
    .await
    .unwrap();
    assert_eq!(new_device.api_id, SANDBOX_API_ID);
    expect_login_token_update(&mut exporter).await;

    let err = within(
        "accept twice",
        scanner
            .client
            .invoke(&tl::functions::auth::AcceptLoginToken { token }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_TOKEN_ALREADY_ACCEPTED");

    let tl::enums::auth::LoginToken::Success(ok) =
        within("re-export", exporter.client.invoke(&export()))
            .await
            .unwrap()
    else {
        panic!("expected loginTokenSuccess");
    };
    let user = user_of(ok.authorization);
    assert!(user.is_self);
    assert_eq!(user.first_name.as_deref(), Some("Alice"));
    assert!(
        within("is_authorized", exporter.client.is_authorized())
            .await
            .unwrap()
    );
    // Logged-out clients cannot accept tokens.
    let stranger = client(&sb, 2);
    let fresh = export_token(&exporter).await;
    let err = within(
        "accept while logged out",
        stranger
            .client
            .invoke(&tl::functions::auth::AcceptLoginToken { token: fresh }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).0, 401);
    for tc in [exporter, scanner, stranger] {
        tc.quit().await;
    }
    sb.stop().await;
}

#[tokio::test]
async fn qr_login_of_a_2fa_account_asks_for_the_password() {
    let sb = seeded().await;
    let mut exporter = client(&sb, 2);
    let token = export_token(&exporter).await;
    let scanner = login_with_password(&sb, "9996622222", 2, "sandbox").await;
    within(
        "accept",
        scanner
            .client
            .invoke(&tl::functions::auth::AcceptLoginToken { token }),
    )
    .await
    .unwrap();
    expect_login_token_update(&mut exporter).await;
    let err = within("re-export", exporter.client.invoke(&export()))
        .await
        .unwrap_err();
    assert_eq!(
        rpc_error(&err),
        (401, "SESSION_PASSWORD_NEEDED".into(), None)
    );
    let pt = PasswordToken::new(get_password(&exporter).await);
    assert_eq!(pt.hint(), Some("the usual"));
    let me = within(
        "check_password",
        exporter.client.check_password(pt, "sandbox"),
    )
    .await
    .unwrap();
    assert_eq!(me.first_name(), Some("Bob"));
    exporter.quit().await;
    scanner.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn qr_login_migrates_to_the_account_dc() {
    let sb = seeded().await;
    let mut exporter = client(&sb, 2);
    let token = export_token(&exporter).await;
    // Dave lives on DC 1 and "scans" the code with the in-process API.
    sb.accept_qr("+999 661 1111", &qr_url_for_token(&token))
        .unwrap();
    expect_login_token_update(&mut exporter).await;
    let tl::enums::auth::LoginToken::MigrateTo(m) =
        within("re-export", exporter.client.invoke(&export()))
            .await
            .unwrap()
    else {
        panic!("expected loginTokenMigrateTo");
    };
    assert_eq!(m.dc_id, 1);
    let tl::enums::auth::LoginToken::Success(ok) = within(
        "importLoginToken",
        exporter.client.invoke_in_dc(
            1,
            &tl::functions::auth::ImportLoginToken {
                token: m.token.clone(),
            },
        ),
    )
    .await
    .unwrap() else {
        panic!("expected loginTokenSuccess");
    };
    assert_eq!(
        user_of(ok.authorization).first_name.as_deref(),
        Some("Dave")
    );
    exporter.session.set_home_dc_id(1).await.unwrap();
    assert!(
        within("is_authorized", exporter.client.is_authorized())
            .await
            .unwrap()
    );
    let me = within("get_me", exporter.client.get_me()).await.unwrap();
    assert_eq!(me.first_name(), Some("Dave"));
    let err = within(
        "import twice",
        exporter
            .client
            .invoke_in_dc(1, &tl::functions::auth::ImportLoginToken { token: m.token }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_TOKEN_ALREADY_ACCEPTED");
    exporter.quit().await;
    sb.stop().await;
}

/// exportLoginToken's except_ids (Telethon's `ignored_ids`): an account already logged in on
/// the exporting app cannot accept its code; any other account can.
#[tokio::test]
async fn an_account_in_except_ids_cannot_accept_the_token() {
    let sb = seeded().await;
    let mut exporter = client(&sb, 2);
    let alice = phone_login(&sb, "9996621111", 2).await;
    let alice_id = within("get_me", alice.client.get_me())
        .await
        .unwrap()
        .id()
        .bare_id()
        .unwrap();
    let tl::enums::auth::LoginToken::Token(t) = within(
        "export with except_ids",
        exporter
            .client
            .invoke(&tl::functions::auth::ExportLoginToken {
                except_ids: vec![alice_id],
                ..export()
            }),
    )
    .await
    .unwrap() else {
        panic!("expected a token");
    };
    let accept = tl::functions::auth::AcceptLoginToken {
        token: t.token.clone(),
    };
    let err = within("excepted accept", alice.client.invoke(&accept))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_TOKEN_EXCEPTION");
    let url = qr_url_for_token(&t.token);
    assert!(
        sb.accept_qr("+9996621111", &url).is_err(),
        "accept-qr obeys it too"
    );
    sb.add_user(tgsess::sandbox::NewUser::new("+9996627777", "Erin"))
        .unwrap();
    let erin = phone_login(&sb, "9996627777", 2).await;
    within("accept", erin.client.invoke(&accept)).await.unwrap();
    expect_login_token_update(&mut exporter).await;
    for tc in [exporter, alice, erin] {
        tc.quit().await;
    }
    sb.stop().await;
}
