// Tests fail loudly on the first unexpected error; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;
use crate::clock::{DAY, Timestamp};

const T0: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);
const PLAINTEXT: &[u8] = b"{\"/secretKey\":\"sk_test_KAT\"}";

fn ctx() -> Context<'static> {
    Context::new("project-kat", "stripe")
}

fn key_id(id: &str) -> KeyId {
    KeyId::new(id).unwrap()
}

/// A vault whose KEK, data key and nonces are fixed: KEK = 0x42 * 32, the keyring's random
/// stream starts at 0x00 (data key 00..1f, wrap nonce 20..2b), the vault's at 0xa0 (nonce a0..ab).
fn kat_vault() -> Vault<LocalKeyring> {
    let mut keyring = LocalKeyring::from_key(key_id("kat-key"), [0x42; 32], Some(T0));
    keyring.set_rng(random::Rng::counter(0x00));
    Vault::with_rng(keyring, random::Rng::counter(0xa0))
}

fn vault() -> Vault<LocalKeyring> {
    Vault::new(LocalKeyring::generate_in_memory(T0).unwrap())
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// Known-answer vector, reproduced with an independent AES-GCM implementation (Python
// `cryptography`'s AESGCM) from the format description alone:
//   ctx     = u32be(11) "project-kat" u32be(6) "stripe"
//   wrapped = wn || AESGCM(0x42*32).encrypt(wn = 20..2b, dk = 00..1f, 07 "kat-key" "MGVE" 01 01 ctx)
//   body    = AESGCM(dk).encrypt(n = a0..ab, PLAINTEXT, "MGVE" 01 01 n ctx)
//   record  = "MGVE" 01 01 | 07 "kat-key" | u16be(60) wrapped | n | body
const KAT_HEX: &str = concat!(
    "4d4756450101",
    "076b61742d6b6579",
    "003c",
    "202122232425262728292a2b32974100e0eca938b9ee75ccf3c73ef95179",
    "5fc6573e1f2f8005d2484cd7e2fa114c5ddacc1e64d05a5e62a56d728935",
    "a0a1a2a3a4a5a6a7a8a9aaab",
    "9d3a535e20a870da162ee2aa2540e2ad1bf32d75e1c31d27dd5a04fbfc2356bf",
    "749685bea92dec9ec0711fef",
);

#[test]
fn known_answer_vector_binary_and_text() {
    let vault = kat_vault();
    let envelope = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let bytes = envelope.to_bytes();
    assert_eq!(keyring::hex(&bytes), KAT_HEX);
    assert_eq!(&bytes[..4], b"MGVE");
    assert_eq!(envelope.key_id().as_str(), "kat-key");
    assert_eq!(
        envelope.nonce(),
        &[
            0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab
        ]
    );
    let text = envelope.to_text();
    assert!(text.starts_with("mgv1:"));
    assert_eq!(Envelope::from_text(&text).unwrap(), envelope);
    // The committed bytes decrypt with a fresh vault holding only the KEK.
    let fresh = Vault::new(LocalKeyring::from_key(key_id("kat-key"), [0x42; 32], None));
    let parsed = Envelope::from_bytes(&unhex(KAT_HEX)).unwrap();
    assert_eq!(
        fresh.decrypt(&parsed, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
}

#[test]
fn round_trip_and_fresh_randomness_per_record() {
    let vault = vault();
    let a = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let b = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    assert_ne!(a.nonce(), b.nonce());
    assert_ne!(a.wrapped_key(), b.wrapped_key());
    assert_ne!(a.body(), b.body());
    assert_eq!(
        vault.decrypt(&a, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    let empty = vault.encrypt(b"", &ctx()).unwrap();
    assert_eq!(vault.decrypt(&empty, &ctx()).unwrap().expose_secret(), b"");
}

#[test]
fn tampering_any_single_byte_fails_without_panic() {
    let vault = vault();
    let bytes = vault.encrypt(PLAINTEXT, &ctx()).unwrap().to_bytes();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut tampered = bytes.clone();
            tampered[i] ^= flip;
            let result = Envelope::from_bytes(&tampered).and_then(|e| vault.decrypt(&e, &ctx()));
            assert!(result.is_err(), "byte {i} ^ {flip:#x} went unnoticed");
        }
    }
}

#[test]
fn tampering_the_authenticated_parts_gives_one_opaque_error() {
    let vault = vault();
    let envelope = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let bytes = envelope.to_bytes();
    let wrapped_start = 6 + 1 + envelope.key_id().as_str().len() + 2;
    for i in wrapped_start..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let err = vault
            .decrypt(&Envelope::from_bytes(&tampered).unwrap(), &ctx())
            .unwrap_err();
        assert!(matches!(err, VaultError::Decryption), "byte {i}: {err:?}");
    }
}

#[test]
fn truncation_at_every_length_fails_without_panic() {
    let vault = vault();
    let envelope = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let bytes = envelope.to_bytes();
    for len in 0..bytes.len() {
        let result = Envelope::from_bytes(&bytes[..len]).and_then(|e| vault.decrypt(&e, &ctx()));
        assert!(result.is_err(), "truncated to {len} bytes was accepted");
    }
    assert!(matches!(
        Envelope::from_bytes(b"MG"),
        Err(VaultError::Truncated)
    ));
    assert!(matches!(
        Envelope::from_bytes(b""),
        Err(VaultError::Truncated)
    ));
    let text = envelope.to_text();
    for len in 0..text.len() {
        assert!(
            vault.decrypt_text(&text[..len], &ctx()).is_err(),
            "text truncated to {len}"
        );
    }
}

#[test]
fn header_errors_are_typed() {
    let vault = vault();
    let bytes = vault.encrypt(PLAINTEXT, &ctx()).unwrap().to_bytes();
    let mut v = bytes.clone();
    v[4] = 2;
    assert!(matches!(
        Envelope::from_bytes(&v),
        Err(VaultError::UnknownVersion { found: 2 })
    ));
    let mut v = bytes.clone();
    v[5] = 9;
    assert!(matches!(
        Envelope::from_bytes(&v),
        Err(VaultError::UnknownAlgorithm { found: 9 })
    ));
    assert!(matches!(
        Envelope::from_bytes(b"PK\x03\x04rest"),
        Err(VaultError::NotARecord)
    ));
    assert!(matches!(
        Envelope::from_text("v1:abc"),
        Err(VaultError::BadTextEncoding { .. })
    ));
    assert!(matches!(
        Envelope::from_text("mgv1:not base64!"),
        Err(VaultError::BadTextEncoding { .. })
    ));
}

#[test]
fn swapped_context_fails() {
    let vault = vault();
    let envelope = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    for other in [
        Context::new("project-other", "stripe"),
        Context::new("project-kat", "supabase"),
        Context::new("project-katstripe", ""),
        Context::new("", "project-katstripe"),
    ] {
        assert!(
            matches!(
                vault.decrypt(&envelope, &other),
                Err(VaultError::Decryption)
            ),
            "{other:?}"
        );
    }
}

#[test]
fn unknown_and_wrong_key_ids_fail() {
    let vault = vault();
    let envelope = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let other = Vault::new(LocalKeyring::generate_in_memory(T0).unwrap());
    assert!(matches!(
        other.decrypt(&envelope, &ctx()),
        Err(VaultError::UnknownKeyId { .. })
    ));
    // Same id, different key material.
    let impostor = Vault::new(LocalKeyring::from_key(
        envelope.key_id().clone(),
        [7; 32],
        None,
    ));
    assert!(matches!(
        impostor.decrypt(&envelope, &ctx()),
        Err(VaultError::Decryption)
    ));
    // A record whose key id was edited to a known one.
    let kat = kat_vault();
    let moved = envelope
        .clone()
        .with_wrapped_key(key_id("kat-key"), envelope.wrapped_key().to_vec());
    assert!(matches!(
        kat.decrypt(&moved, &ctx()),
        Err(VaultError::Decryption)
    ));
}

#[test]
fn rotation_keeps_old_records_readable_and_rewrap_keeps_the_body() {
    let mut vault = vault();
    let old = vault.encrypt(PLAINTEXT, &ctx()).unwrap();
    let old_id = old.key_id().clone();
    let new_id = vault.provider_mut().rotate(T0.plus(DAY)).unwrap();
    assert_ne!(old_id, new_id);
    assert_eq!(
        vault.decrypt(&old, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    let fresh = vault.encrypt(b"new", &ctx()).unwrap();
    assert_eq!(fresh.key_id(), &new_id);

    let rewrapped = vault.rewrap(old.clone(), &ctx()).unwrap();
    assert_eq!(rewrapped.key_id(), &new_id);
    assert_eq!(
        rewrapped.body(),
        old.body(),
        "rewrap must not touch the body"
    );
    assert_eq!(rewrapped.nonce(), old.nonce());
    assert_ne!(rewrapped.wrapped_key(), old.wrapped_key());
    assert_eq!(
        vault.decrypt(&rewrapped, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    // Already under the active key: unchanged.
    assert_eq!(vault.rewrap(rewrapped.clone(), &ctx()).unwrap(), rewrapped);
    // Rewrap checks the context too.
    assert!(
        vault
            .rewrap(old.clone(), &Context::new("x", "stripe"))
            .is_err()
    );

    vault
        .provider_mut()
        .retire(&old_id, T0.plus(DAY * 2))
        .unwrap();
    assert!(matches!(
        vault.decrypt(&old, &ctx()),
        Err(VaultError::KeyRetired { .. })
    ));
    assert_eq!(
        vault.decrypt(&rewrapped, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    assert!(matches!(
        vault.provider_mut().retire(&new_id, T0),
        Err(VaultError::Unsupported { .. })
    ));
}

#[test]
fn key_file_is_created_private_and_survives_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("keyring.json");
    let mut keyring = LocalKeyring::open_or_create(&path, T0).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let first = keyring.active().clone();
    let vault = Vault::new(LocalKeyring::open_or_create(&path, T0.plus(DAY)).unwrap());
    assert_eq!(
        vault.provider().active(),
        &first,
        "second open reuses the file"
    );
    let record = vault.encrypt(PLAINTEXT, &ctx()).unwrap();

    let second = keyring.rotate(T0.plus(DAY * 10)).unwrap();
    let reopened = LocalKeyring::open(&path).unwrap();
    assert_eq!(reopened.active(), &second);
    let infos = reopened.keys();
    assert_eq!(infos.len(), 2);
    assert_eq!(
        infos.iter().find(|k| k.id == first).unwrap().created_at,
        Some(T0)
    );
    let vault = Vault::new(reopened);
    assert_eq!(
        vault.decrypt(&record, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!format!("{vault:?}").contains(&text[..]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            LocalKeyring::open(&path),
            Err(VaultError::KeyFilePermissions { mode: 0o644, .. })
        ));
    }
}

#[test]
fn malformed_key_files_are_reported_without_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    std::fs::write(&path, "{\"format\": \"sk_live_LEAK\"").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let err = LocalKeyring::open(&path).unwrap_err();
    assert!(matches!(err, VaultError::KeyFileFormat { .. }));
    assert!(!err.to_string().contains("LEAK"), "{err}");
}

#[test]
fn environment_keys_decode_and_name_themselves() {
    use base64::Engine as _;
    let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let old = LocalKeyring::from_env_values(&b64([1; 32]), None, None).unwrap();
    let old_id = old.active().clone();
    assert!(old_id.as_str().starts_with("env-"));
    let record = Vault::new(old).encrypt(PLAINTEXT, &ctx()).unwrap();
    let rotated =
        LocalKeyring::from_env_values(&b64([2; 32]), Some("prod-2"), Some(&b64([1; 32]))).unwrap();
    assert_eq!(rotated.active().as_str(), "prod-2");
    assert_eq!(rotated.keys().len(), 2);
    let mut vault = Vault::new(rotated);
    assert_eq!(
        vault.decrypt(&record, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    assert!(matches!(
        vault.provider_mut().rotate(T0),
        Err(VaultError::Unsupported { .. })
    ));
    for bad in ["", "not base64 at all!", "AAAA"] {
        let err = LocalKeyring::from_env_values(bad, None, None).unwrap_err();
        assert!(matches!(err, VaultError::BadKey { .. }));
    }
}

#[test]
fn policy_flags_keys_older_than_90_days() {
    let keys = vec![
        KeyInfo {
            id: key_id("old"),
            created_at: Some(T0),
            retired_at: None,
            active: false,
        },
        KeyInfo {
            id: key_id("gone"),
            created_at: Some(T0),
            retired_at: Some(T0),
            active: false,
        },
        KeyInfo {
            id: key_id("cur"),
            created_at: Some(T0.plus(DAY * 30)),
            retired_at: None,
            active: true,
        },
        KeyInfo {
            id: key_id("env"),
            created_at: None,
            retired_at: None,
            active: false,
        },
    ];
    assert!(keys_due_for_rotation(&keys, T0.plus(DAY * 90), DEFAULT_KEY_MAX_AGE).is_empty());
    let due = keys_due_for_rotation(&keys, T0.plus(DAY * 91), DEFAULT_KEY_MAX_AGE);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].key_id.as_str(), "old");
    assert_eq!(due[0].age, DAY * 91);
    let due = keys_due_for_rotation(&keys, T0.plus(DAY * 200), Duration::from_secs(90 * 86_400));
    assert_eq!(
        due.iter().map(|d| d.key_id.as_str()).collect::<Vec<_>>(),
        ["old", "cur"]
    );
    assert!(due[1].active);
}

#[test]
fn key_ids_are_checked() {
    assert!(KeyId::new("arn:aws:kms:eu-west-1:123:key/abc-1").is_ok());
    assert!(KeyId::new("").is_err());
    assert!(KeyId::new("with space").is_err());
    assert!(KeyId::new(&"a".repeat(256)).is_err());
}

#[test]
fn errors_and_debug_never_show_key_material() {
    let keyring = LocalKeyring::from_key(key_id("k"), [0xab; 32], None);
    let printed = format!("{keyring:?}");
    assert!(
        !printed.contains("171") && !printed.to_lowercase().contains("abab"),
        "{printed}"
    );
    let key = DataKey::from_bytes([0xab; 32]);
    assert_eq!(format!("{key:?}"), "DataKey([redacted])");
}

/// Issue 15 item 6: a long-lived keyring (the Node service) that rotates after another
/// process (the CLI) rotated must keep the other process's key, and records wrapped under it.
#[test]
fn concurrent_rotations_from_separate_keyrings_lose_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let first = LocalKeyring::open_or_create(&path, T0).unwrap();
    drop(first);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut keyring = LocalKeyring::open(&path).unwrap();
                (0..8)
                    .map(|i| keyring.rotate(T0.plus(DAY * i)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let created: Vec<KeyId> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let on_disk = LocalKeyring::open(&path).unwrap();
    let known: Vec<KeyId> = on_disk.keys().into_iter().map(|k| k.id).collect();
    for id in &created {
        assert!(
            known.contains(id),
            "key {id} was lost; the file has {known:?}"
        );
    }
    assert_eq!(known.len(), created.len() + 1);
}

#[test]
fn a_keyring_that_rotates_after_another_keeps_the_other_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let mut service = LocalKeyring::open_or_create(&path, T0).unwrap();
    let mut cli = Vault::new(LocalKeyring::open(&path).unwrap());
    let cli_key = cli.provider_mut().rotate(T0.plus(DAY)).unwrap();
    let record = cli.encrypt(PLAINTEXT, &ctx()).unwrap();
    assert_eq!(record.key_id(), &cli_key);
    let service_key = service.rotate(T0.plus(DAY * 2)).unwrap();
    let reopened = Vault::new(LocalKeyring::open(&path).unwrap());
    assert_eq!(reopened.provider().active(), &service_key);
    assert_eq!(
        reopened.decrypt(&record, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
}

#[test]
fn a_keyring_reloads_the_file_on_an_unknown_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyring.json");
    let service = Vault::new(LocalKeyring::open_or_create(&path, T0).unwrap());
    let mut cli = Vault::new(LocalKeyring::open(&path).unwrap());
    cli.provider_mut().rotate(T0.plus(DAY)).unwrap();
    let record = cli.encrypt(PLAINTEXT, &ctx()).unwrap();
    assert_eq!(
        service.decrypt(&record, &ctx()).unwrap().expose_secret(),
        PLAINTEXT
    );
    let unknown = record
        .clone()
        .with_wrapped_key(key_id("lk-000000000000"), vec![0; 60]);
    assert!(matches!(
        service.decrypt(&unknown, &ctx()),
        Err(VaultError::UnknownKeyId { .. })
    ));
}

#[test]
fn concurrent_first_opens_of_a_fresh_keyring_agree_on_one_key() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh").join("keyring.json");
        let threads: Vec<_> = (0..5)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    LocalKeyring::open_or_create(&path, T0)
                        .map(|k| k.active().clone())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        let ids: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for id in &ids {
            assert_eq!(id.as_ref().unwrap(), ids[0].as_ref().unwrap(), "{ids:?}");
        }
    }
}

/// Issue 15 item 12: the expanded AES key schedules (and the GHASH key) are wiped on drop. This
/// does not compile when `aes` lacks its `zeroize` feature.
#[test]
fn aes_key_schedules_are_wiped_on_drop() {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<aes::Aes256>();
    wiped_on_drop::<aes::Aes256Enc>();
}
