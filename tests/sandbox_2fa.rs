//! 2FA through grammers: login with a password (SRP), wrong and reused proofs, and
//! enabling, changing and disabling a password with a recovery email confirmation.

mod sandbox_support;

use grammers_client::SignInError;
use grammers_client::client::PasswordToken;
use grammers_client::tl;
use sandbox_support::*;
use tgsess::sandbox::SANDBOX_API_HASH;

#[tokio::test]
async fn login_with_password_wrong_password_and_reused_proof() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let token = within(
        "code",
        tc.client.request_login_code("9996622222", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let err = within("sign_in", tc.client.sign_in(&token, "22222"))
        .await
        .unwrap_err();
    let SignInError::PasswordRequired(pt) = err else {
        panic!("expected PasswordRequired, got {err}");
    };
    assert_eq!(pt.hint(), Some("the usual"));
    // Between code and password the key is not logged in yet.
    let err = within(
        "getState",
        tc.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        rpc_error(&err),
        (401, "SESSION_PASSWORD_NEEDED".into(), None)
    );

    let err = within("wrong password", tc.client.check_password(pt, "nope"))
        .await
        .unwrap_err();
    let SignInError::InvalidPassword(again) = err else {
        panic!("expected InvalidPassword, got {err}");
    };
    // The token's srp_id was used up by the failed attempt.
    let err = within("reused proof", tc.client.check_password(again, "sandbox"))
        .await
        .unwrap_err();
    let SignInError::Other(e) = err else {
        panic!("expected an RPC error, got {err}");
    };
    assert_eq!(rpc_error(&e).1, "SRP_ID_INVALID");

    let fresh = PasswordToken::new(get_password(&tc).await);
    let me = within("check_password", tc.client.check_password(fresh, "sandbox"))
        .await
        .unwrap();
    assert_eq!(me.first_name(), Some("Bob"));
    assert!(
        within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn enable_change_and_disable_password_with_email_confirmation() {
    let sb = seeded().await;
    let tc = phone_login(&sb, "9996621111", 2).await;
    let p = get_password(&tc).await;
    assert!(!p.has_password && !p.has_recovery);
    assert_eq!(p.secure_random.len(), 256);

    // Salts the server never issued are refused.
    let tl::enums::account::PasswordInputSettings::Settings(mut forged) =
        new_password_settings(&tc, "pw1", "h1", None).await;
    if let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(a)) =
        forged.new_algo.as_mut()
    {
        a.salt1[0] ^= 0xff;
    }
    let err = within(
        "forged salt",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty,
                new_settings: forged.into(),
            }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "NEW_SALT_INVALID");

    // Enable.
    let settings = new_password_settings(&tc, "pw1", "h1", None).await;
    let done = within(
        "enable",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty,
                new_settings: settings,
            }),
    )
    .await
    .unwrap();
    assert!(done);
    let p = get_password(&tc).await;
    assert!(p.has_password);
    assert_eq!(p.hint.as_deref(), Some("h1"));

    // A second device now needs the password.
    let other = login_with_password(&sb, "9996621111", 2, "pw1").await;
    other.quit().await;

    // A wrong current password is refused.
    let settings = new_password_settings(&tc, "pw2", "h2", None).await;
    let wrong = srp_check(&tc, "not-pw1").await;
    let err = within(
        "wrong current",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: wrong,
                new_settings: settings,
            }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "PASSWORD_HASH_INVALID");

    // Change with a recovery email: pending until the emailed code comes back.
    let settings = new_password_settings(&tc, "pw2", "h2", Some("alice@sandbox.invalid")).await;
    let check = srp_check(&tc, "pw1").await;
    let err = within(
        "change",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: check,
                new_settings: settings,
            }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err), (400, "EMAIL_UNCONFIRMED".into(), Some(6)));
    let p = get_password(&tc).await;
    assert_eq!(p.hint.as_deref(), Some("h1"), "old password still current");
    assert_eq!(
        p.email_unconfirmed_pattern.as_deref(),
        Some("a***@sandbox.invalid")
    );
    let code = sb.last_code("alice@sandbox.invalid").unwrap();
    assert_eq!(code.len(), 6);
    let wrong_code: String = code
        .chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect();
    let err = within(
        "wrong email code",
        tc.client
            .invoke(&tl::functions::account::ConfirmPasswordEmail { code: wrong_code }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "CODE_INVALID");
    within(
        "resend",
        tc.client
            .invoke(&tl::functions::account::ResendPasswordEmail {}),
    )
    .await
    .unwrap();
    assert_eq!(
        sb.outbox()
            .iter()
            .filter(|e| e.recipient == "alice@sandbox.invalid")
            .count(),
        2
    );
    within(
        "confirm",
        tc.client
            .invoke(&tl::functions::account::ConfirmPasswordEmail { code }),
    )
    .await
    .unwrap();
    let p = get_password(&tc).await;
    assert!(p.has_recovery);
    assert_eq!(p.hint.as_deref(), Some("h2"));
    assert!(p.email_unconfirmed_pattern.is_none());
    let other = login_with_password(&sb, "9996621111", 2, "pw2").await;
    other.quit().await;

    // Disable.
    let check = srp_check(&tc, "pw2").await;
    within(
        "disable",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: check,
                new_settings: tl::types::account::PasswordInputSettings {
                    new_algo: Some(tl::enums::PasswordKdfAlgo::Unknown),
                    new_password_hash: Some(Vec::new()),
                    hint: Some(String::new()),
                    email: Some(String::new()),
                    new_secure_settings: None,
                }
                .into(),
            }),
    )
    .await
    .unwrap();
    let p = get_password(&tc).await;
    assert!(!p.has_password && !p.has_recovery);
    let plain = phone_login(&sb, "9996621111", 2).await;
    plain.quit().await;
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn forgotten_password_is_recovered_by_email() {
    let sb = seeded().await;
    let tc = client(&sb, 2);
    let token = within(
        "code",
        tc.client.request_login_code("9996622222", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let err = within("sign_in", tc.client.sign_in(&token, "22222"))
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::PasswordRequired(_)), "{err}");
    let tl::enums::auth::PasswordRecovery::Recovery(r) = within(
        "request recovery",
        tc.client
            .invoke(&tl::functions::auth::RequestPasswordRecovery {}),
    )
    .await
    .unwrap();
    assert_eq!(r.email_pattern, "b***@sandbox.invalid");
    let code = sb.last_code("bob@sandbox.invalid").unwrap();
    let err = within(
        "wrong code",
        tc.client
            .invoke(&tl::functions::auth::CheckRecoveryPassword { code: "x".into() }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "CODE_INVALID");
    assert!(
        within(
            "check code",
            tc.client
                .invoke(&tl::functions::auth::CheckRecoveryPassword { code: code.clone() }),
        )
        .await
        .unwrap()
    );
    within(
        "recover",
        tc.client.invoke(&tl::functions::auth::RecoverPassword {
            code,
            new_settings: None,
        }),
    )
    .await
    .unwrap();
    assert!(
        within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    let p = get_password(&tc).await;
    assert!(!p.has_password && !p.has_recovery);

    // Accounts without a password have nothing to recover.
    let alice = phone_login(&sb, "9996621111", 2).await;
    let err = within(
        "no password",
        alice
            .client
            .invoke(&tl::functions::auth::RequestPasswordRecovery {}),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "PASSWORD_EMPTY");
    alice.quit().await;
    tc.quit().await;
    sb.stop().await;
}

/// Telethon's `edit_2fa(current_password=…, new_password=None)`: the offered new_algo (salt1
/// extended by 32 random bytes) with an empty hash removes the password, as on Telegram.
#[tokio::test]
async fn password_removal_as_telethon_sends_it() {
    let sb = seeded().await;
    let tc = login_with_password(&sb, "9996622222", 2, "sandbox").await;
    let tl::enums::account::PasswordInputSettings::Settings(mut settings) =
        new_password_settings(&tc, "unused", "", None).await;
    settings.new_password_hash = Some(Vec::new());
    settings.hint = Some(String::new()); // edit_2fa's default hint
    let check = srp_check(&tc, "sandbox").await;
    within(
        "remove",
        tc.client
            .invoke(&tl::functions::account::UpdatePasswordSettings {
                password: check,
                new_settings: settings.into(),
            }),
    )
    .await
    .expect("an empty hash with the offered algo removes the password");
    assert!(!get_password(&tc).await.has_password);
    phone_login(&sb, "9996622222", 2).await.quit().await;
    tc.quit().await;
    sb.stop().await;
}
