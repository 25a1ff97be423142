//! The audit log of credential access and changes, as a keyed hash chain.
//!
//! Each entry stores the MAC of the previous entry (`prev_hash`, zeros for the first) and its own
//! MAC: HMAC-SHA256 under the keyring's audit key ([`AuditSeal`]) over its canonical content (a
//! domain tag, the store's id, then every field length-prefixed, `prev_hash` included). Whoever
//! can write the database but not the keyring can therefore not rewrite the chain, and the
//! keyring side anchors the chain head (sequence number and MAC of the last entry, see
//! [`AuditSeal::advance_head`]), so entries cut off the end are detected too.
//!
//! Entries written before the chain was keyed (schema 1: unkeyed SHA-256, [`entry_hash`]) are
//! still read and verified as they were, but only as a prefix of the chain: once a keyed entry
//! follows them, its MAC covers their last hash, so they cannot be changed either. An unkeyed
//! entry after a keyed one is reported as edited. [`verify_chain`] reports the first entry that
//! is missing, edited, whose link to the previous one is broken, or the anchored head that is
//! missing or different.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::secrets::vault::{AuditHead, AuditSeal, KeyId, VaultError};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// Credentials encrypted and stored (first configuration).
    Encrypt,
    /// Credentials decrypted (the detail holds the caller's purpose).
    Decrypt,
    /// A decryption was attempted and failed.
    DecryptFailed,
    /// New credentials replaced the current ones (the old ones are kept as expiring).
    RotateCredentials,
    /// A record's data key was re-wrapped under another key-encryption key.
    Rewrap,
    /// An expired credentials version was purged.
    PurgeVersion,
    /// Credentials deleted (connector removed).
    Delete,
    /// The connector's status changed.
    StatusChange,
    /// A new key-encryption key became active.
    RotateKey,
    /// A key-encryption key was retired.
    RetireKey,
}

impl AuditAction {
    const ALL: [AuditAction; 10] = [
        AuditAction::Encrypt,
        AuditAction::Decrypt,
        AuditAction::DecryptFailed,
        AuditAction::RotateCredentials,
        AuditAction::Rewrap,
        AuditAction::PurgeVersion,
        AuditAction::Delete,
        AuditAction::StatusChange,
        AuditAction::RotateKey,
        AuditAction::RetireKey,
    ];

    /// The stored spelling (`decrypt`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Encrypt => "encrypt",
            AuditAction::Decrypt => "decrypt",
            AuditAction::DecryptFailed => "decrypt-failed",
            AuditAction::RotateCredentials => "rotate-credentials",
            AuditAction::Rewrap => "rewrap",
            AuditAction::PurgeVersion => "purge-version",
            AuditAction::Delete => "delete",
            AuditAction::StatusChange => "status-change",
            AuditAction::RotateKey => "rotate-key",
            AuditAction::RetireKey => "retire-key",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown audit action `{s}`"))
    }
}

/// An event to append; the store assigns its sequence number and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When.
    pub at: Timestamp,
    /// Who (caller-supplied: a user, `cli`, a service name).
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// Which connector instance, if any.
    pub instance_id: Option<String>,
    /// Which key-encryption key, if any.
    pub key_id: Option<KeyId>,
    /// Free text without secrets: the purpose of a decryption, a version, a status change.
    pub detail: String,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event.
    pub event: AuditEvent,
    /// Hash of the previous entry (hex).
    pub prev_hash: String,
    /// MAC (or, for an entry written before the chain was keyed, hash) of this entry (hex).
    pub hash: String,
    /// Whether `hash` is a MAC under the audit key (false: an unkeyed legacy entry).
    pub keyed: bool,
}

/// The unkeyed SHA-256 of a legacy entry (written before the chain was keyed) with sequence
/// number `seq`, content `event` and predecessor `prev_hash`. Anyone can compute it: new entries
/// use [`entry_mac`].
pub fn entry_hash(seq: i64, event: &AuditEvent, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"mobigen-audit-v1\0");
    canonical_fields(seq, event, prev_hash, &mut |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    });
    crate::secrets::vault::hex_lower(&hasher.finalize())
}

/// What the MAC of a keyed entry covers: a domain tag, the store's id, then the fields.
fn mac_message(store_id: &str, seq: i64, event: &AuditEvent, prev_hash: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(256);
    message.extend_from_slice(b"mobigen-audit-v2\0");
    let mut field = |bytes: &[u8]| {
        message.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        message.extend_from_slice(bytes);
    };
    field(store_id.as_bytes());
    canonical_fields(seq, event, prev_hash, &mut field);
    message
}

/// The MAC (HMAC-SHA256 under the audit key of `seal`, hex) of an entry of store `store_id`.
///
/// # Errors
/// The seal's errors (its key file cannot be read or created).
pub fn entry_mac(
    seal: &AuditSeal,
    store_id: &str,
    seq: i64,
    event: &AuditEvent,
    prev_hash: &str,
) -> Result<String, VaultError> {
    seal.mac_hex(&mac_message(store_id, seq, event, prev_hash))
}

fn canonical_fields(seq: i64, event: &AuditEvent, prev_hash: &str, field: &mut dyn FnMut(&[u8])) {
    field(seq.to_string().as_bytes());
    field(event.at.unix_millis().to_string().as_bytes());
    field(event.actor.as_bytes());
    field(event.action.as_str().as_bytes());
    // Presence markers keep `None` and `Some("")` apart.
    match &event.instance_id {
        Some(id) => {
            field(b"1");
            field(id.as_bytes());
        }
        None => field(b"0"),
    }
    match &event.key_id {
        Some(id) => {
            field(b"1");
            field(id.as_str().as_bytes());
        }
        None => field(b"0"),
    }
    field(event.detail.as_bytes());
    field(prev_hash.as_bytes());
}

/// What is wrong at the first broken place of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainBreak {
    /// The entry with this sequence number is missing (deleted).
    Missing,
    /// The entry's content does not match its hash (edited).
    Edited,
    /// The entry does not point at the previous entry's hash (the previous entry was replaced,
    /// or this one was moved).
    BrokenLink,
    /// Entries were cut off the end: the keyring anchors a head with this sequence number, and
    /// the log ends before it.
    Truncated,
    /// The entry the keyring anchors as the head has a different MAC (the chain was rewritten).
    HeadMismatch,
    /// The log holds keyed entries but the keyring anchors no head for this store (its id was
    /// changed, or the keyring's audit file was replaced).
    NotAnchored,
}

/// The first problem found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditProblem {
    /// Sequence number where the chain breaks.
    pub seq: i64,
    /// How.
    pub kind: ChainBreak,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match self.kind {
            ChainBreak::Missing => write!(f, "audit entry {seq} is missing (deleted)"),
            ChainBreak::Edited => write!(
                f,
                "audit entry {seq} was edited: its content does not match its hash"
            ),
            ChainBreak::BrokenLink => write!(
                f,
                "audit entry {seq} does not link to entry {}: that entry was replaced or removed",
                seq - 1
            ),
            ChainBreak::Truncated => write!(
                f,
                "audit entries up to {seq} were cut off the end: the keyring anchors entry {seq} as the last one appended, and the log ends before it"
            ),
            ChainBreak::HeadMismatch => write!(
                f,
                "audit entry {seq} is not the one the keyring anchors as the last appended: the chain was rewritten"
            ),
            ChainBreak::NotAnchored => write!(
                f,
                "the keyring anchors no head for this store's audit log (the store's id was changed or the keyring's audit file replaced); cannot tell whether entries were cut off the end"
            ),
        }
    }
}

/// The result of verifying the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// MAC of the last entry.
    pub head: Option<String>,
    /// Entries written before the chain was keyed (verified with the unkeyed hash).
    pub legacy_entries: u64,
    /// The sequence number the keyring anchors as the last one appended (`None`: the keyring
    /// does not anchor, as for keys from the environment, or nothing was appended since).
    pub anchored_seq: Option<i64>,
    /// The first broken link, if any.
    pub first_problem: Option<AuditProblem>,
}

impl AuditReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// Verifies entries of store `store_id` given in sequence order: each keyed entry's MAC under
/// `seal`, the links, then the head anchored by the keyring (`anchored`, from
/// [`AuditSeal::head`]; `None` with `seal.is_anchored()` and keyed entries present is a problem).
///
/// # Errors
/// The seal's errors (its key file cannot be read).
pub fn verify_chain(
    entries: impl IntoIterator<Item = AuditEntry>,
    seal: &AuditSeal,
    store_id: &str,
    anchored: Option<&AuditHead>,
) -> Result<AuditReport, VaultError> {
    let mut prev = GENESIS_HASH.to_string();
    let mut count = 0;
    let mut legacy = 0;
    let mut seen_keyed = false;
    let mut hash_at_anchor = None;
    let report = |entries, head, legacy_entries, first_problem| AuditReport {
        entries,
        head,
        legacy_entries,
        anchored_seq: anchored.map(|h| h.seq),
        first_problem,
    };
    for (expected_seq, entry) in (1..).zip(entries) {
        count += 1;
        let authentic = if entry.keyed {
            seen_keyed = true;
            seal.verify_hex(
                &mac_message(store_id, entry.seq, &entry.event, &entry.prev_hash),
                &entry.hash,
            )?
        } else {
            legacy += 1;
            // An unkeyed entry after a keyed one is a forgery: anyone can compute its hash.
            !seen_keyed && entry_hash(entry.seq, &entry.event, &entry.prev_hash) == entry.hash
        };
        let kind = if entry.seq != expected_seq {
            Some((expected_seq, ChainBreak::Missing))
        } else if entry.prev_hash != prev {
            Some((entry.seq, ChainBreak::BrokenLink))
        } else if !authentic {
            Some((entry.seq, ChainBreak::Edited))
        } else {
            None
        };
        if let Some((seq, kind)) = kind {
            return Ok(report(
                count,
                None,
                legacy,
                Some(AuditProblem { seq, kind }),
            ));
        }
        if anchored.is_some_and(|h| h.seq == entry.seq) {
            hash_at_anchor = Some(entry.hash.clone());
        }
        prev = entry.hash;
    }
    let anchor_problem = match anchored {
        Some(h) if h.seq > count as i64 => Some(AuditProblem {
            seq: h.seq,
            kind: ChainBreak::Truncated,
        }),
        Some(h) if hash_at_anchor.as_deref() != Some(h.mac.as_str()) => Some(AuditProblem {
            seq: h.seq,
            kind: ChainBreak::HeadMismatch,
        }),
        None if seal.is_anchored() && seen_keyed => Some(AuditProblem {
            seq: count as i64,
            kind: ChainBreak::NotAnchored,
        }),
        _ => None,
    };
    Ok(report(
        count,
        (count > 0 && anchor_problem.is_none()).then_some(prev),
        legacy,
        anchor_problem,
    ))
}
