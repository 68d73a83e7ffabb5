use grammers_tl_types::{self as tl, Identifiable, Serializable};

use super::*;
use crate::sandbox::rpc::{authorization, tl_user};
use crate::sandbox::state::UserRecord;

fn alice() -> UserRecord {
    UserRecord {
        id: 1_234_567_890,
        access_hash: -42,
        phone: Some("9996621111".into()),
        first_name: "Alice".into(),
        last_name: "Sandbox".into(),
        username: Some("alice".into()),
        dc_id: 2,
        is_bot: false,
        password: None,
        email: None,
        pending: None,
    }
}

fn constructor(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().unwrap())
}

fn obj(v: &Value) -> &Obj {
    match v {
        Value::Obj(o) => o,
        other => panic!("not an object: {other:?}"),
    }
}

#[test]
fn the_table_covers_every_layer_and_matches_grammers_at_the_current_one() {
    let s = schema();
    let names: std::collections::BTreeSet<_> = s.ctors().iter().map(|c| c.name.clone()).collect();
    for name in &names {
        for layer in OLDEST_LAYER..=CURRENT_LAYER {
            assert!(s.at(name, layer).is_some(), "{name} at layer {layer}");
        }
    }
    for (name, id) in [
        ("user", tl::types::User::CONSTRUCTOR_ID),
        ("userFull", tl::types::UserFull::CONSTRUCTOR_ID),
        ("config", tl::types::Config::CONSTRUCTOR_ID),
        (
            "account.password",
            tl::types::account::Password::CONSTRUCTOR_ID,
        ),
        ("authorization", tl::types::Authorization::CONSTRUCTOR_ID),
        (
            "auth.authorization",
            tl::types::auth::Authorization::CONSTRUCTOR_ID,
        ),
        ("peerSettings", tl::types::PeerSettings::CONSTRUCTOR_ID),
        (
            "peerNotifySettings",
            tl::types::PeerNotifySettings::CONSTRUCTOR_ID,
        ),
        ("users.userFull", tl::types::users::UserFull::CONSTRUCTOR_ID),
    ] {
        assert_eq!(s.at(name, CURRENT_LAYER).unwrap().id, id, "{name}");
    }
}

/// The ids the real clients of those layers are built with (their generated code).
#[test]
fn user_is_encoded_with_the_constructor_each_real_client_knows() {
    let bytes = authorization(&alice()).to_bytes();
    for (layer, client, user_id) in [
        (158, "Pyrogram 2.0.106", 0x8f97_c628_u32),
        (181, "Telethon 1.36", 0x215c_4438),
        (220, "pyrofork 2.3.69", 0x3177_4388),
        (229, "Telethon 1.45 / kurigram 2.2.26", 0xb1b8_cc83),
    ] {
        let out = transcode(&bytes, layer).unwrap().unwrap();
        assert_eq!(
            constructor(&out),
            0x2ea2_c0d4,
            "auth.authorization for {client}"
        );
        // auth.authorization flags (0): the user follows at offset 8.
        assert_eq!(constructor(&out[8..]), user_id, "user for {client}");
    }
}

#[test]
fn every_layer_reads_back_the_same_account() {
    let bot = UserRecord {
        is_bot: true,
        phone: None,
        ..alice()
    };
    for user in [alice(), bot] {
        let bytes = authorization(&user).to_bytes();
        for layer in OLDEST_LAYER..=CURRENT_LAYER {
            let out = transcode(&bytes, layer).unwrap().unwrap();
            let back = decode(&out).unwrap().expect("known constructors");
            let u = obj(obj(&back).get("user").unwrap());
            let id = schema().at("user", layer).unwrap().id;
            assert_eq!(constructor(&out[8..]), id, "layer {layer}");
            assert_eq!(u.get("id"), Some(&Value::Long(user.id)), "layer {layer}");
            assert_eq!(u.get("access_hash"), Some(&Value::Long(-42)));
            assert_eq!(u.get("self"), Some(&Value::True));
            assert_eq!(u.get("first_name"), Some(&Value::Bytes(b"Alice".to_vec())));
            assert_eq!(u.get("bot").is_some(), user.is_bot, "layer {layer}");
            assert_eq!(u.get("phone").is_some(), !user.is_bot);
        }
    }
}

#[test]
fn the_current_layer_and_unknown_results_pass_through() {
    let bytes = authorization(&alice()).to_bytes();
    assert_eq!(encode_for(Some(CURRENT_LAYER), bytes.clone()), bytes);
    assert_eq!(encode_for(None, bytes.clone()), bytes);
    let bool_true = true.to_bytes();
    assert_eq!(encode_for(Some(158), bool_true.clone()), bool_true);
    let vector_of_users = vec![tl_user(&alice(), true)].to_bytes();
    let old = encode_for(Some(158), vector_of_users.clone());
    assert_ne!(old, vector_of_users);
    assert_eq!(constructor(&old[8..]), 0x8f97_c628);
}

#[test]
fn a_field_the_old_layer_requires_gets_its_zero_value() {
    // userFull of layer 158 requires settings, notify_settings, common_chats_count.
    let user = decode(&tl_user(&alice(), true).to_bytes())
        .unwrap()
        .unwrap();
    let value = Value::Obj(
        Obj::new("users.userFull")
            .with(
                "full_user",
                crate::sandbox::rpc::users::tl_user_full(&alice()),
            )
            .with("chats", Value::Vector(vec![]))
            .with("users", Value::Vector(vec![user])),
    );
    let full = encode(&value, CURRENT_LAYER).unwrap();
    // grammers (the current layer) reads what the value writer wrote.
    let parsed = <tl::enums::users::UserFull as tl::Deserializable>::from_bytes(&full).unwrap();
    let tl::enums::users::UserFull::Full(parsed) = parsed;
    assert_eq!(parsed.users.len(), 1);
    for layer in OLDEST_LAYER..=CURRENT_LAYER {
        let out = transcode(&full, layer).unwrap().unwrap();
        let back = decode(&out).unwrap().unwrap();
        let f = obj(obj(&back).get("full_user").unwrap());
        assert_eq!(f.get("id"), Some(&Value::Long(alice().id)), "layer {layer}");
        assert_eq!(f.get("common_chats_count"), Some(&Value::Int(0)));
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let bytes = authorization(&alice()).to_bytes();
    for cut in 0..bytes.len() {
        let _ = transcode(&bytes[..cut], 158);
    }
    assert_eq!(transcode(&bytes[..10], 158), Err(LayerError::Truncated));
}
