//! Authorizations: listing (with initConnection's device data), terminating one or all
//! others, and copying a login to another DC with export/importAuthorization.

mod sandbox_support;

use std::sync::Arc;

use grammers_client::sender::ConnectionParams;
use grammers_client::tl;
use sandbox_support::*;
use tgsess::sandbox::SANDBOX_API_HASH;
use tgsess::store::adapter::{Backend, StoredSession};

async fn authorizations(tc: &TestClient) -> Vec<tl::types::Authorization> {
    let tl::enums::account::Authorizations::Authorizations(list) = within(
        "getAuthorizations",
        tc.client
            .invoke(&tl::functions::account::GetAuthorizations {}),
    )
    .await
    .unwrap();
    list.authorizations
        .into_iter()
        .map(|tl::enums::Authorization::Authorization(a)| a)
        .collect()
}

async fn login_with_device(sb: &tgsess::sandbox::Sandbox, phone: &str, device: &str) -> TestClient {
    let session = sb.new_session(2).unwrap();
    let tc = client_with(
        Arc::new(StoredSession::new(session, Backend::Memory)),
        ConnectionParams {
            device_model: device.into(),
            app_version: "9.9".into(),
            ..Default::default()
        },
    );
    let token = within(
        "code",
        tc.client.request_login_code(phone, SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let code = sb.last_code(phone).unwrap();
    within("sign_in", tc.client.sign_in(&token, &code))
        .await
        .unwrap();
    tc
}

#[tokio::test]
async fn list_and_terminate_authorizations() {
    let sb = seeded().await;
    let first = login_with_device(&sb, "9996621111", "Laptop").await;
    let second = login_with_device(&sb, "9996621111", "Phone").await;
    let third = login_with_device(&sb, "9996621111", "Tablet").await;
    let list = authorizations(&first).await;
    assert_eq!(list.len(), 3);
    let current: Vec<_> = list.iter().filter(|a| a.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].hash, 0);
    assert_eq!(current[0].device_model, "Laptop");
    assert_eq!(current[0].app_version, "9.9");
    let phone = list.iter().find(|a| a.device_model == "Phone").unwrap();
    assert_ne!(phone.hash, 0);

    let err = within(
        "hash 0",
        first
            .client
            .invoke(&tl::functions::account::ResetAuthorization { hash: 0 }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "HASH_INVALID");
    assert!(
        within(
            "reset one",
            first
                .client
                .invoke(&tl::functions::account::ResetAuthorization { hash: phone.hash }),
        )
        .await
        .unwrap()
    );
    let err = within(
        "terminated getState",
        second.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err), (401, "AUTH_KEY_UNREGISTERED".into(), None));
    assert!(
        within("third still in", third.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(authorizations(&first).await.len(), 2);

    // Terminate all other sessions.
    within(
        "reset all",
        first
            .client
            .invoke(&tl::functions::auth::ResetAuthorizations {}),
    )
    .await
    .unwrap();
    assert!(
        !within("third out", third.client.is_authorized())
            .await
            .unwrap()
    );
    assert!(
        within("first in", first.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(authorizations(&first).await.len(), 1);
    for tc in [first, second, third] {
        tc.quit().await;
    }
    sb.stop().await;
}

#[tokio::test]
async fn export_and_import_authorization_to_another_dc() {
    let sb = seeded().await;
    let tc = phone_login(&sb, "9996621111", 2).await;
    let err = within(
        "bad dc",
        tc.client
            .invoke(&tl::functions::auth::ExportAuthorization { dc_id: 9 }),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).1, "DC_ID_INVALID");
    let tl::enums::auth::ExportedAuthorization::Authorization(exported) = within(
        "export",
        tc.client
            .invoke(&tl::functions::auth::ExportAuthorization { dc_id: 4 }),
    )
    .await
    .unwrap();
    // Before the import, DC 4 does not know this client.
    let err = within(
        "dc4 before",
        tc.client
            .invoke_in_dc(4, &tl::functions::updates::GetState {}),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).0, 401);
    let import = tl::functions::auth::ImportAuthorization {
        id: exported.id,
        bytes: exported.bytes.clone(),
    };
    // Importing on the wrong DC fails, on DC 4 it logs in.
    let err = within("import on dc 1", tc.client.invoke_in_dc(1, &import))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_BYTES_INVALID");
    within("import", tc.client.invoke_in_dc(4, &import))
        .await
        .unwrap();
    within(
        "dc4 after",
        tc.client
            .invoke_in_dc(4, &tl::functions::updates::GetState {}),
    )
    .await
    .unwrap();
    let err = within("import twice", tc.client.invoke_in_dc(4, &import))
        .await
        .unwrap_err();
    assert_eq!(rpc_error(&err).1, "AUTH_BYTES_INVALID");
    tc.quit().await;
    sb.stop().await;
}

#[tokio::test]
async fn fresh_sessions_may_not_terminate_others_when_tuned() {
    let sb = tgsess::sandbox::Sandbox::start_tuned(
        tgsess::sandbox::SandboxConfig {
            state_dir: None,
            seed: true,
            base_port: 0,
        },
        tgsess::sandbox::Tuning {
            fresh_reset_forbidden_for: Some(std::time::Duration::from_secs(86_400)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let first = phone_login(&sb, "9996621111", 2).await;
    let second = phone_login(&sb, "9996621111", 2).await;
    let other = authorizations(&first)
        .await
        .into_iter()
        .find(|a| !a.current)
        .unwrap();
    let err = within(
        "reset one",
        first
            .client
            .invoke(&tl::functions::account::ResetAuthorization { hash: other.hash }),
    )
    .await
    .unwrap_err();
    assert_eq!(
        rpc_error(&err),
        (406, "FRESH_RESET_AUTHORISATION_FORBIDDEN".into(), None)
    );
    let err = within(
        "reset all",
        first
            .client
            .invoke(&tl::functions::auth::ResetAuthorizations {}),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_error(&err).0, 406);
    assert!(
        within("second still in", second.client.is_authorized())
            .await
            .unwrap()
    );
    first.quit().await;
    second.quit().await;
    sb.stop().await;
}
