//! The connector lifecycle as an explicit state machine.
//!
//! ```text
//! installed -> configured -> validated -> active <-> disabled -> removed
//!                   |             |          |          |
//!                   +-----> error <----------+----------+      (a failed validation)
//!                           error -> validated                 (re-validation succeeded)
//! ```
//!
//! Besides the main line: a configured, validated or errored connector can be removed (an
//! abandoned setup); a validated, disabled or errored one can be reconfigured (`configured`).
//! An active connector must be disabled before it is removed.

use std::fmt;
use std::str::FromStr;

/// Where a connector instance is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Status {
    /// Code injected, no config stored yet.
    Installed,
    /// Config and credentials stored, not yet checked against the service.
    Configured,
    /// Credentials checked against the service.
    Validated,
    /// In use by the app.
    Active,
    /// Switched off: credentials and code kept.
    Disabled,
    /// The last validation failed; re-validation recovers.
    Error,
    /// Credentials deleted (and code removed by the injector). Final.
    Removed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 7] = [
        Status::Installed,
        Status::Configured,
        Status::Validated,
        Status::Active,
        Status::Disabled,
        Status::Error,
        Status::Removed,
    ];

    /// The stored spelling (`active`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Installed => "installed",
            Status::Configured => "configured",
            Status::Validated => "validated",
            Status::Active => "active",
            Status::Disabled => "disabled",
            Status::Error => "error",
            Status::Removed => "removed",
        }
    }

    /// The statuses reachable from this one in one step.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Installed => &[Configured, Removed],
            Configured => &[Validated, Error, Removed],
            Validated => &[Active, Error, Configured, Removed],
            Active => &[Disabled, Error],
            Disabled => &[Active, Configured, Error, Removed],
            Error => &[Validated, Configured, Removed],
            Removed => &[],
        }
    }

    /// Whether `self -> to` is allowed.
    pub fn can_become(self, to: Status) -> bool {
        self.next().contains(&to)
    }

    /// Checks the transition `self -> to`.
    ///
    /// # Errors
    /// [`IllegalTransition`] naming both ends and the allowed next states.
    pub fn transition(self, to: Status) -> Result<Status, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`"))
    }
}

/// A lifecycle step that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a connector cannot go from `{from}` to `{to}`; from `{from}` it can go to: {}", allowed(*from))]
pub struct IllegalTransition {
    /// The current status.
    pub from: Status,
    /// The status asked for.
    pub to: Status,
}

fn allowed(from: Status) -> String {
    if from.next().is_empty() {
        return "nothing (final state)".into();
    }
    from.next()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_line_is_allowed() {
        let mut status = Status::Installed;
        for next in [
            Status::Configured,
            Status::Validated,
            Status::Active,
            Status::Disabled,
            Status::Active,
            Status::Disabled,
            Status::Removed,
        ] {
            status = status.transition(next).unwrap_or(status);
            assert_eq!(status, next);
        }
    }

    #[test]
    fn error_is_reachable_from_validation_and_recoverable() {
        assert!(Status::Configured.can_become(Status::Error));
        assert!(Status::Active.can_become(Status::Error));
        assert!(Status::Error.can_become(Status::Validated));
        assert!(!Status::Error.can_become(Status::Active));
    }

    #[test]
    fn illegal_transitions_are_typed_errors() {
        let err = Status::Installed.transition(Status::Active);
        assert_eq!(
            err,
            Err(IllegalTransition {
                from: Status::Installed,
                to: Status::Active
            })
        );
        let message = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(message.contains("configured, removed"), "{message}");
        assert!(Status::Active.transition(Status::Removed).is_err());
        for to in Status::ALL {
            assert!(Status::Removed.transition(to).is_err());
            assert!(
                Status::Installed.transition(Status::Installed).is_err() || to != Status::Installed
            );
        }
    }

    #[test]
    fn spelling_round_trips() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert!("enabled".parse::<Status>().is_err());
    }
}
