//! The HTTP layer: clients (rustls with ring, platform certificate verifier), the safety checks,
//! and sending with bounded retries.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::guard::{PublicOnlyResolver, blocked_address, check_url};
use super::{NetError, NetOptions};

/// The two clients of an engine: `strict` resolves names through [`PublicOnlyResolver`];
/// `local` is used only for services the host allowed onto the local network.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    strict: reqwest::Client,
    local: reqwest::Client,
}

fn build_client(options: &NetOptions, strict: bool) -> Result<reqwest::Client, NetError> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("mobigen-connectors/", env!("CARGO_PKG_VERSION")));
    if strict {
        builder = builder.dns_resolver(PublicOnlyResolver);
    }
    builder.build().map_err(|e| NetError::Setup(e.to_string()))
}

impl Clients {
    pub(crate) fn new(options: &NetOptions) -> Result<Clients, NetError> {
        Ok(Clients {
            strict: build_client(options, true)?,
            local: build_client(options, false)?,
        })
    }
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl From<crate::catalog::definition::HttpMethod> for Method {
    fn from(m: crate::catalog::definition::HttpMethod) -> Method {
        match m {
            crate::catalog::definition::HttpMethod::Get => Method::Get,
            crate::catalog::definition::HttpMethod::Post => Method::Post,
            crate::catalog::definition::HttpMethod::Delete => Method::Delete,
        }
    }
}

/// A request ready to send (and to send again).
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(String, String)>,
    /// Content type and bytes.
    pub(crate) body: Option<(&'static str, Vec<u8>)>,
    /// `http` and local addresses allowed (the host opted in for this service).
    pub(crate) allow_local: bool,
    /// Safe to send twice (retried after 5xx and dropped connections).
    pub(crate) idempotent: bool,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// Why a request got no response. Texts hold no URL and no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendFailure {
    /// The safety rules refused the endpoint.
    Refused(String),
    /// No (complete) answer.
    Transport(String),
}

impl From<SendFailure> for NetError {
    fn from(f: SendFailure) -> NetError {
        match f {
            SendFailure::Refused(reason) => NetError::EndpointRefused(reason),
            SendFailure::Transport(reason) => NetError::Transport(reason),
        }
    }
}

/// Largest response body read (larger ones are cut).
const MAX_BODY: usize = 4 * 1024 * 1024;

fn describe(error: &reqwest::Error, options: &NetOptions) -> SendFailure {
    if let Some(blocked) = blocked_address(error) {
        return SendFailure::Refused(blocked);
    }
    if error.is_timeout() {
        return SendFailure::Transport(format!(
            "no answer within {} s (timeout)",
            options.timeout.as_secs_f32()
        ));
    }
    if error.is_connect() {
        return SendFailure::Transport("could not connect to the service".into());
    }
    SendFailure::Transport("the connection was closed before a complete answer arrived".to_string())
}

/// The wait a `Retry-After` value asks for: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP requires senders to use.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from civil (proleptic Gregorian), after H. Hinnant's well-known formula.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let fraction = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    };
    base.mul_f64(1.0 + fraction * 0.25)
}

impl Clients {
    /// Sends `out`, retrying as the module documentation says. A 429 whose `Retry-After` exceeds
    /// the cap is returned as it is.
    pub(crate) async fn send(
        &self,
        out: &Outgoing,
        options: &NetOptions,
    ) -> Result<Reply, SendFailure> {
        check_url(&out.url, out.allow_local).map_err(SendFailure::Refused)?;
        let client = if out.allow_local {
            &self.local
        } else {
            &self.strict
        };
        let mut attempt: u32 = 0;
        loop {
            let can_retry = attempt < options.max_retries;
            let backoff = jitter(options.backoff_base.saturating_mul(1 << attempt.min(16)));
            attempt += 1;
            match self.send_once(client, out).await {
                Ok(reply) => {
                    let status = reply.status;
                    let retryable =
                        status == 429 || (status >= 500 && out.idempotent && status != 501);
                    if !(retryable && can_retry) {
                        return Ok(reply);
                    }
                    let wait = match retry_after(&reply.headers, SystemTime::now()) {
                        Some(wait) if wait > options.max_retry_wait => return Ok(reply),
                        Some(wait) => wait,
                        None => backoff,
                    };
                    tokio::time::sleep(wait).await;
                }
                Err(error) => {
                    let failure = describe(&error, options);
                    let dropped = !error.is_timeout()
                        && matches!(failure, SendFailure::Transport(_))
                        && (error.is_connect() || error.is_request() || error.is_body());
                    if !(dropped && out.idempotent && can_retry) {
                        return Err(failure);
                    }
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    async fn send_once(
        &self,
        client: &reqwest::Client,
        out: &Outgoing,
    ) -> Result<Reply, reqwest::Error> {
        let method = match out.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &out.headers {
            // Names and values come from manifests and config values; an invalid one (a newline
            // in a pasted key) is dropped rather than sent broken.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        let mut request = client.request(method, out.url.clone()).headers(headers);
        if let Some((content_type, bytes)) = &out.body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, *content_type)
                .body(bytes.clone());
        }
        let response = request.send().await.map_err(reqwest::Error::without_url)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(reqwest::Error::without_url)?;
        let cut = &bytes[..bytes.len().min(MAX_BODY)];
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(cut).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_to_the_right_instant() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
