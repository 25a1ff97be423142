//! The audit log of credential access and changes, as a hash chain.
//!
//! Each entry stores the SHA-256 of the previous entry (`prev_hash`, zeros for the first) and
//! its own hash over its canonical content (a domain tag, then every field length-prefixed,
//! `prev_hash` included). [`verify_chain`] walks the entries in order and reports the first
//! entry that is missing, edited, or whose link to the previous one is broken. The chain shows
//! edits and deletions inside the log; cutting entries off its end is only visible against a head
//! hash kept elsewhere ([`AuditReport::head`]).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::secrets::vault::KeyId;

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
    /// Hash of this entry (hex).
    pub hash: String,
}

/// The hash of an entry with sequence number `seq`, content `event` and predecessor `prev_hash`.
pub fn entry_hash(seq: i64, event: &AuditEvent, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"mobigen-audit-v1\0");
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
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
    crate::secrets::vault::hex_lower(&hasher.finalize())
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
        }
    }
}

/// The result of verifying the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry (keep it elsewhere to detect entries cut off the end later).
    pub head: Option<String>,
    /// The first broken link, if any.
    pub first_problem: Option<AuditProblem>,
}

impl AuditReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// Verifies entries given in sequence order.
pub fn verify_chain(entries: impl IntoIterator<Item = AuditEntry>) -> AuditReport {
    let mut prev = GENESIS_HASH.to_string();
    let mut count = 0;
    for (expected_seq, entry) in (1..).zip(entries) {
        count += 1;
        let problem = if entry.seq != expected_seq {
            Some(AuditProblem {
                seq: expected_seq,
                kind: ChainBreak::Missing,
            })
        } else if entry.prev_hash != prev {
            Some(AuditProblem {
                seq: entry.seq,
                kind: ChainBreak::BrokenLink,
            })
        } else if entry_hash(entry.seq, &entry.event, &entry.prev_hash) != entry.hash {
            Some(AuditProblem {
                seq: entry.seq,
                kind: ChainBreak::Edited,
            })
        } else {
            None
        };
        if problem.is_some() {
            return AuditReport {
                entries: count,
                head: None,
                first_problem: problem,
            };
        }
        prev = entry.hash;
    }
    AuditReport {
        entries: count,
        head: (count > 0).then_some(prev),
        first_problem: None,
    }
}
