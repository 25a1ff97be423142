//! Vault decryption of arbitrary bytes and text: an error, never a panic, and never a
//! plaintext from anything but a record the vault sealed.
//!
//! Input: the bytes, tried as the binary record format (`Envelope::from_bytes`, then
//! `Vault::decrypt`) and, when UTF-8, as the text form (`Vault::decrypt_text`). The vault holds
//! one fixed key; the seeds are records it sealed at start-up. Checked: parsing never panics; a
//! parsed record writes back to the same bytes; a record sealed in this run decrypts to its
//! plaintext; anything else decrypts only to one of the target's plaintexts (records sealed with
//! the fixed key by an earlier run, kept in a corpus) and never under another context.

use std::sync::OnceLock;

use mobigen_connectors::secrets::vault::{Context, Envelope, KeyId, LocalKeyring, Vault};

const PROJECT: &str = "prj-fuzz";
const CONNECTOR: &str = "stripe";

struct Sealed {
    vault: Vault<LocalKeyring>,
    /// (record bytes or text, plaintext).
    records: Vec<(Vec<u8>, Vec<u8>)>,
}

fn sealed() -> &'static Sealed {
    static SEALED: OnceLock<Sealed> = OnceLock::new();
    SEALED.get_or_init(|| {
        let key_id = KeyId::new("fuzz-key-1").expect("a valid key id");
        let vault = Vault::new(LocalKeyring::from_key(key_id, [0x42; 32], None));
        let context = Context::new(PROJECT, CONNECTOR);
        let plaintexts: [Vec<u8>; 4] = [
            Vec::new(),
            b"sk_test_51SampleOnlyNotARealKey00000000".to_vec(),
            vec![b'x'; 1024],
            br#"{"/secretKey":"sk_live_x","/webhookSecret":"whsec_y"}"#.to_vec(),
        ];
        let mut records = Vec::new();
        for plaintext in plaintexts {
            let envelope = vault.encrypt(&plaintext, &context).expect("encrypt");
            records.push((envelope.to_bytes(), plaintext.clone()));
            records.push((envelope.to_text().into_bytes(), plaintext));
        }
        Sealed { vault, records }
    })
}

/// Inputs that reached the invariant checks.
pub static ACCEPTED: crate::Accepted = crate::Accepted::new();

/// Runs one input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let sealed = sealed();
    let context = Context::new(PROJECT, CONNECTOR);
    let other = Context::new(PROJECT, "supabase");
    let known = |data: &[u8]| {
        sealed
            .records
            .iter()
            .find(|(r, _)| r == data)
            .map(|(_, p)| p)
    };

    if let Ok(envelope) = Envelope::from_bytes(data) {
        ACCEPTED.count();
        assert_eq!(
            envelope.to_bytes(),
            data,
            "a parsed record does not write back to the same bytes"
        );
        check_decrypt(sealed.vault.decrypt(&envelope, &context), known(data), data);
        assert!(
            sealed.vault.decrypt(&envelope, &other).is_err(),
            "a record decrypts under another context"
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_decrypt(sealed.vault.decrypt_text(text, &context), known(data), data);
        assert!(
            sealed.vault.decrypt_text(text, &other).is_err(),
            "a text record decrypts under another context"
        );
    }
}

fn check_decrypt(
    result: Result<
        mobigen_connectors::secrets::secret::SecretBytes,
        mobigen_connectors::secrets::vault::VaultError,
    >,
    known: Option<&Vec<u8>>,
    data: &[u8],
) {
    match (result, known) {
        (Ok(plain), Some(expected)) => assert_eq!(
            plain.expose_secret(),
            expected.as_slice(),
            "a sealed record decrypts to another plaintext"
        ),
        // A record sealed with the fixed fuzz key by another run (a saved corpus file) decrypts
        // too, but only to one of the plaintexts the target seals: anything else is a forgery.
        (Ok(plain), None) => assert!(
            sealed()
                .records
                .iter()
                .any(|(_, p)| p.as_slice() == plain.expose_secret()),
            "forged: bytes the vault never sealed decrypt: {data:?}"
        ),
        (Err(e), Some(_)) => panic!("a sealed record does not decrypt: {e}"),
        (Err(e), None) => {
            // The message is the error's whole story: it must say something.
            assert!(!e.to_string().is_empty(), "an empty error message");
        }
    }
}

/// Seeds: records sealed by the fuzz vault, binary and text.
pub fn seeds() -> Vec<Vec<u8>> {
    sealed().records.iter().map(|(r, _)| r.clone()).collect()
}
