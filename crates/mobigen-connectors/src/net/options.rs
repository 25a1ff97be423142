//! Timeouts, retries and per-service base URL overrides.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::NetError;

/// The environment variable that overrides a service's base URL: `MOBIGEN_<SERVICE>_API_BASE`,
/// with the service key upper-cased and every other character than a letter or digit turned into
/// `_` (`stripe` -> `MOBIGEN_STRIPE_API_BASE`, `firebase.firestore` ->
/// `MOBIGEN_FIREBASE_FIRESTORE_API_BASE`).
pub fn env_var_name(service: &str) -> String {
    format!("MOBIGEN_{}_API_BASE", normalise(service))
}

fn normalise(service: &str) -> String {
    service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Network settings of a [`super::NetEngine`].
///
/// Service keys name one base URL each: a connector id (`stripe`; for Supabase the project URL),
/// `<connector>.<name>` for a connector's further bases (`firebase.firestore`,
/// `supabase.management`), and `<connector>.oauth` for its OAuth provider.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// Time allowed to open a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, answer included (default 15 s).
    pub timeout: Duration,
    /// Retries after the first attempt (default 2).
    pub max_retries: u32,
    /// First backoff wait; doubled on each retry (default 250 ms).
    pub backoff_base: Duration,
    /// Longest `Retry-After` the engine waits for (default 10 s); a longer one fails the step.
    pub max_retry_wait: Duration,
    overrides: BTreeMap<String, String>,
    local_allowed: BTreeSet<String>,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_retries: 2,
            backoff_base: Duration::from_millis(250),
            max_retry_wait: Duration::from_secs(10),
            overrides: BTreeMap::new(),
            local_allowed: BTreeSet::new(),
        }
    }
}

impl NetOptions {
    /// The defaults plus the base URL overrides found in the process environment.
    ///
    /// # Errors
    /// [`NetError::BadOverride`] when a `MOBIGEN_*_API_BASE` value is not an http(s) URL.
    pub fn from_env() -> Result<NetOptions, NetError> {
        NetOptions::default().with_env(std::env::vars())
    }

    /// Adds the overrides among `vars` (name, value): every non-empty `MOBIGEN_<SERVICE>_API_BASE`
    /// overrides that service's base URL and allows the local network for that service only.
    ///
    /// # Errors
    /// [`NetError::BadOverride`] when a value is not an http(s) URL.
    pub fn with_env(
        mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<NetOptions, NetError> {
        for (name, value) in vars {
            let Some(service) = name
                .strip_prefix("MOBIGEN_")
                .and_then(|rest| rest.strip_suffix("_API_BASE"))
            else {
                continue;
            };
            if service.is_empty() || value.trim().is_empty() {
                continue;
            }
            self = self.with_api_base(service, value.trim())?;
            self.local_allowed.insert(normalise(service));
        }
        Ok(self)
    }

    /// Overrides the base URL of `service` (a proxy, a mock server). It does not by itself allow
    /// `http` or local addresses: see [`Self::allow_local_network`].
    ///
    /// # Errors
    /// [`NetError::BadOverride`] when `base` is not an http(s) URL without query or fragment.
    pub fn with_api_base(mut self, service: &str, base: &str) -> Result<NetOptions, NetError> {
        let bad = |reason: &str| NetError::BadOverride {
            service: service.to_string(),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(base).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() || url.host_str().is_none() {
            return Err(bad("expected scheme, host, optional port and path only"));
        }
        if let Some(reason) = super::guard::never_allowed_host(&url) {
            return Err(bad(&format!(
                "{reason}: an override may point at loopback or the local network (a mock server, a proxy), never at a link-local or cloud metadata address"
            )));
        }
        self.overrides
            .insert(normalise(service), base.trim_end_matches('/').to_string());
        Ok(self)
    }

    /// Allows `http` and private and loopback addresses for `service` (tests, a local proxy).
    /// Link-local and cloud metadata addresses stay refused. Off by default for every service.
    pub fn allow_local_network(mut self, service: &str) -> NetOptions {
        self.local_allowed.insert(normalise(service));
        self
    }

    /// The base URL override of `service`, if any.
    pub fn api_base_override(&self, service: &str) -> Option<&str> {
        self.overrides.get(&normalise(service)).map(String::as_str)
    }

    /// Whether `service` may use `http` and non-public addresses.
    pub fn allows_local_network(&self, service: &str) -> bool {
        self.local_allowed.contains(&normalise(service))
    }
}
