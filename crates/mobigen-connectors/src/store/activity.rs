//! Activity per connector instance: when it was last used, how many calls it made to its service
//! each day (UTC), how many times its credentials were read, and its last error.
//!
//! Recorded by [`super::CredentialService`]: every credential read (in the same transaction as
//! its audit entry), every validation and test run a host records, every OAuth token refresh.
//! The figures are counters, not a log: a day is one row per instance, so a busy connector does
//! not grow the store by a row per call. No secret is ever part of an activity record; error
//! messages come from reports that are already masked, and are cut at
//! [`MAX_ERROR_MESSAGE`] bytes.

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use crate::clock::Timestamp;

/// How many days of daily figures [`InstanceActivity::days`] holds.
pub const ACTIVITY_DAYS: u32 = 30;

/// The longest error message kept (in bytes, cut at a character boundary).
pub const MAX_ERROR_MESSAGE: usize = 500;

/// What used an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActivityKind {
    /// Its credentials were decrypted for a caller.
    CredentialRead,
    /// Its credentials were checked against the live service.
    Validation,
    /// A test action ran against the live service.
    Test,
    /// Its OAuth access token was refreshed.
    OAuthRefresh,
}

impl ActivityKind {
    /// The stored spelling (`credential_read`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::CredentialRead => "credential_read",
            ActivityKind::Validation => "validation",
            ActivityKind::Test => "test",
            ActivityKind::OAuthRefresh => "oauth_refresh",
        }
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored activity kind that this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity kind `{0}`")]
pub struct UnknownActivityKind(pub String);

impl FromStr for ActivityKind {
    type Err = UnknownActivityKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ActivityKind::CredentialRead,
            ActivityKind::Validation,
            ActivityKind::Test,
            ActivityKind::OAuthRefresh,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| UnknownActivityKind(s.to_string()))
    }
}

/// One use of an instance, as [`super::Store::record_activity`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: ActivityKind,
    /// Requests sent to the service (0 for a credential read).
    pub api_calls: u32,
    /// What went wrong, when it failed (never a secret).
    pub error: Option<String>,
}

impl ActivityEvent {
    /// A credential read at `at`.
    pub fn credential_read(at: Timestamp) -> ActivityEvent {
        ActivityEvent {
            at,
            kind: ActivityKind::CredentialRead,
            api_calls: 0,
            error: None,
        }
    }

    /// A validation or test run at `at`, from its report (a
    /// [`crate::net::CheckReport`] as JSON: `success`, `requests`, `steps`). The error is the
    /// first failed step's name and details.
    pub fn from_report(at: Timestamp, kind: ActivityKind, report: &Value) -> ActivityEvent {
        let api_calls = report
            .get("requests")
            .and_then(Value::as_u64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        let success = report.get("success").and_then(Value::as_bool) == Some(true);
        let error = (!success).then(|| {
            report
                .get("steps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|s| s.get("passed").and_then(Value::as_bool) == Some(false))
                .map_or_else(
                    || format!("{kind} failed"),
                    |step| {
                        let name = step.get("name").and_then(Value::as_str).unwrap_or("step");
                        match step.get("details").and_then(Value::as_str) {
                            Some(details) => format!("{name}: {details}"),
                            None => format!("{name} failed"),
                        }
                    },
                )
        });
        ActivityEvent {
            at,
            kind,
            api_calls,
            error,
        }
    }

    /// A use a host reports (Node's `recordActivity`, C's `mgc_store_record_activity`), at `at`:
    /// `{"kind": "validation" | "test" | "oauth_refresh" | "credential_read", "apiCalls": N?,
    /// "error": "..." | null?}`.
    ///
    /// # Errors
    /// What is wrong with `event`, naming the member (never its value beyond a kind name).
    pub fn from_host_json(at: Timestamp, event: &Value) -> Result<ActivityEvent, String> {
        let object = event.as_object().ok_or("not an object")?;
        if let Some(key) = object
            .keys()
            .find(|k| !["kind", "apiCalls", "error"].contains(&k.as_str()))
        {
            return Err(format!("unknown member `{key}`"));
        }
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("`kind` must be a string")?
            .parse()
            .map_err(|e: UnknownActivityKind| e.to_string())?;
        let api_calls = match object.get("apiCalls") {
            None | Some(Value::Null) => 0,
            Some(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("`apiCalls` must be an integer from 0 to 4294967295")?,
        };
        let error = match object.get("error") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return Err("`error` must be a string or null".into()),
        };
        Ok(ActivityEvent {
            at,
            kind,
            api_calls,
            error,
        })
    }

    /// The error message as stored: cut at [`MAX_ERROR_MESSAGE`] bytes.
    pub fn stored_error(&self) -> Option<&str> {
        self.error.as_deref().map(|message| {
            let mut end = message.len().min(MAX_ERROR_MESSAGE);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            &message[..end]
        })
    }

    /// Whether the event counts as an error.
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

/// The UTC day of `at`, counted from 1970-01-01 (day 0).
pub fn day_number(at: Timestamp) -> i64 {
    at.unix_millis().div_euclid(86_400_000)
}

/// The figures of one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailyActivity {
    /// The day, counted from 1970-01-01 (see [`day_number`]).
    pub day: i64,
    /// Requests sent to the service.
    pub api_calls: u64,
    /// Credential reads.
    pub credential_reads: u64,
    /// Uses that failed.
    pub errors: u64,
}

impl DailyActivity {
    /// The day as `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let start = Timestamp::from_unix_millis(self.day.saturating_mul(86_400_000));
        start.to_string()[..10].to_string()
    }
}

/// The last failed use of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// When.
    pub at: Timestamp,
    /// What failed.
    pub kind: ActivityKind,
    /// Why (never a secret).
    pub message: String,
}

/// What an instance did: last use, last error, and the daily figures of the last
/// [`ACTIVITY_DAYS`] days that had any, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceActivity {
    /// The last use of any kind.
    pub last_used_at: Option<Timestamp>,
    /// The last failed use.
    pub last_error: Option<LastError>,
    /// Daily figures, newest first (days without activity are left out).
    pub days: Vec<DailyActivity>,
}

impl InstanceActivity {
    /// The figures of the day of `now` (zeros when nothing happened that day).
    pub fn today(&self, now: Timestamp) -> DailyActivity {
        let today = day_number(now);
        self.days
            .iter()
            .find(|d| d.day == today)
            .copied()
            .unwrap_or(DailyActivity {
                day: today,
                ..DailyActivity::default()
            })
    }

    /// The JSON form the bindings and `--json` outputs share: `{lastUsedAt, apiCallsToday,
    /// credentialReadsToday, errorsToday, lastError: {at, kind, message} | null, days: [{day,
    /// apiCalls, credentialReads, errors}]}` (times in RFC 3339, days as `YYYY-MM-DD`).
    pub fn to_json(&self, now: Timestamp) -> Value {
        let today = self.today(now);
        json!({
            "lastUsedAt": self.last_used_at.map(|t| t.to_string()),
            "apiCallsToday": today.api_calls,
            "credentialReadsToday": today.credential_reads,
            "errorsToday": today.errors,
            "lastError": self.last_error.as_ref().map(|e| json!({
                "at": e.at.to_string(),
                "kind": e.kind.as_str(),
                "message": e.message,
            })),
            "days": self.days.iter().map(|d| json!({
                "day": d.date(),
                "apiCalls": d.api_calls,
                "credentialReads": d.credential_reads,
                "errors": d.errors,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The `instance_activity` row of an instance as both backends read it: last use, and the last
/// error's time, kind and message (all `NULL` until set).
pub(super) type LastRow = (Option<i64>, Option<i64>, Option<String>, Option<String>);

/// Builds an [`InstanceActivity`] from the stored rows of instance `id`.
pub(super) fn assemble(
    id: &str,
    last: Option<LastRow>,
    days: Vec<DailyActivity>,
) -> Result<InstanceActivity, super::StoreError> {
    let Some((last_used, error_at, kind, message)) = last else {
        return Ok(InstanceActivity {
            days,
            ..InstanceActivity::default()
        });
    };
    let last_error = match (error_at, kind, message) {
        (Some(at), Some(kind), Some(message)) => Some(LastError {
            at: Timestamp::from_unix_millis(at),
            kind: kind
                .parse()
                .map_err(|e: UnknownActivityKind| super::StoreError::CorruptRow {
                    table: "instance_activity",
                    id: id.to_string(),
                    what: e.to_string(),
                })?,
            message,
        }),
        _ => None,
    };
    Ok(InstanceActivity {
        last_used_at: last_used.map(Timestamp::from_unix_millis),
        last_error,
        days,
    })
}

/// The first day [`super::Store::activity`] reports for `now`.
pub fn first_reported_day(now: Timestamp) -> i64 {
    day_number(now) - i64::from(ACTIVITY_DAYS) + 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_report_names_its_first_failed_step_and_counts_its_requests() {
        let report = json!({
            "success": false, "duration": 12, "requests": 3,
            "steps": [
                {"name": "Account reachable", "passed": true},
                {"name": "Payment intent created", "passed": false, "details": "HTTP 401: invalid key sk_test_****"},
                {"name": "Clean-up", "passed": false},
            ],
        });
        let event =
            ActivityEvent::from_report(Timestamp::from_unix_millis(0), ActivityKind::Test, &report);
        assert_eq!(event.api_calls, 3);
        assert_eq!(
            event.error.as_deref(),
            Some("Payment intent created: HTTP 401: invalid key sk_test_****")
        );
        let passed = ActivityEvent::from_report(
            Timestamp::from_unix_millis(0),
            ActivityKind::Validation,
            &json!({"success": true, "steps": []}),
        );
        assert_eq!((passed.api_calls, passed.error), (0, None));
        let bare = ActivityEvent::from_report(
            Timestamp::from_unix_millis(0),
            ActivityKind::Validation,
            &json!({"success": false}),
        );
        assert_eq!(bare.error.as_deref(), Some("validation failed"));
    }

    #[test]
    fn a_host_event_is_read_strictly() {
        let at = Timestamp::from_unix_millis(5);
        let event = ActivityEvent::from_host_json(
            at,
            &json!({"kind": "oauth_refresh", "apiCalls": 2, "error": "refused"}),
        )
        .unwrap();
        assert_eq!(
            (event.kind, event.api_calls, event.error.as_deref()),
            (ActivityKind::OAuthRefresh, 2, Some("refused"))
        );
        let bare = ActivityEvent::from_host_json(at, &json!({"kind": "test"})).unwrap();
        assert_eq!((bare.api_calls, bare.error), (0, None));
        for (bad, message) in [
            (json!([]), "not an object"),
            (json!({"kind": "hack"}), "unknown activity kind `hack`"),
            (json!({"kind": 1}), "`kind` must be a string"),
            (
                json!({"kind": "test", "apiCalls": -1}),
                "`apiCalls` must be",
            ),
            (
                json!({"kind": "test", "apiCalls": 5_000_000_000_u64}),
                "`apiCalls` must be",
            ),
            (json!({"kind": "test", "error": 3}), "`error` must be"),
            (json!({"kind": "test", "at": 3}), "unknown member `at`"),
        ] {
            let error = ActivityEvent::from_host_json(at, &bad).unwrap_err();
            assert!(error.starts_with(message), "{bad}: {error}");
        }
    }

    #[test]
    fn a_long_error_is_cut_at_a_character_boundary() {
        let event = ActivityEvent {
            at: Timestamp::from_unix_millis(0),
            kind: ActivityKind::Test,
            api_calls: 1,
            error: Some("é".repeat(MAX_ERROR_MESSAGE)),
        };
        let stored = event.stored_error().unwrap();
        assert!(stored.len() <= MAX_ERROR_MESSAGE && stored.len() >= MAX_ERROR_MESSAGE - 1);
        assert!(stored.chars().all(|c| c == 'é'));
    }

    #[test]
    fn days_are_utc_calendar_days() {
        // 2026-12-03T23:59:59.999Z and the next millisecond.
        let late = Timestamp::from_unix_millis(1_796_342_399_999);
        let next = Timestamp::from_unix_millis(1_796_342_400_000);
        assert_eq!(day_number(next), day_number(late) + 1);
        let day = DailyActivity {
            day: day_number(late),
            ..DailyActivity::default()
        };
        assert_eq!(day.date(), "2026-12-03");
        assert_eq!(
            first_reported_day(late),
            day_number(late) - i64::from(ACTIVITY_DAYS) + 1
        );
        let kinds = ["credential_read", "validation", "test", "oauth_refresh"];
        for kind in kinds {
            assert_eq!(kind.parse::<ActivityKind>().unwrap().as_str(), kind);
        }
        assert!("read".parse::<ActivityKind>().is_err());
    }
}
