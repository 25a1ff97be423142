//! The HTTP layer: clients (rustls with ring, platform certificate verifier), the safety checks,
//! and sending with bounded retries.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::guard::{NoLinkLocalResolver, PublicOnlyResolver, blocked_address, check_url};
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
    builder = if strict {
        builder.dns_resolver(PublicOnlyResolver)
    } else {
        builder.dns_resolver(NoLinkLocalResolver)
    };
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
    /// The answer's body is larger than the limit; it was not read past the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl From<SendFailure> for NetError {
    fn from(f: SendFailure) -> NetError {
        match f {
            SendFailure::Refused(reason) => NetError::EndpointRefused(reason),
            SendFailure::Transport(reason) => NetError::Transport(reason),
            SendFailure::TooLarge { limit } => NetError::InvalidResponse(format!(
                "the answer is larger than {} MiB and was refused (not read further)",
                limit / (1024 * 1024)
            )),
        }
    }
}

/// Largest response body read; a larger one is refused ([`SendFailure::TooLarge`]).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Why one attempt got no usable answer.
enum AttemptError {
    Http(reqwest::Error),
    TooLarge,
}

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
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
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
                Err(AttemptError::TooLarge) => {
                    return Err(SendFailure::TooLarge { limit: MAX_BODY });
                }
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
                Err(AttemptError::Http(error)) => {
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
    ) -> Result<Reply, AttemptError> {
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
        let http = |e: reqwest::Error| AttemptError::Http(e.without_url());
        let mut response = request.send().await.map_err(http)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY as u64)
        {
            return Err(AttemptError::TooLarge);
        }
        // Streamed, so a body without (or with a false) length is never held past the limit.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(AttemptError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::mock::{MockResponse, MockServer};

    #[test]
    fn http_dates_give_the_wait_until_them() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
    }

    /// Issue 15 item 14: the hand-written parser overflowed (a panic in debug builds).
    #[test]
    fn absurd_retry_after_dates_are_ignored_without_panicking() {
        for value in [
            "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
            "Sun, 99999999999 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 9999999999999999:49:37 GMT",
            "yesterday",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(
                reqwest::header::RETRY_AFTER,
                HeaderValue::from_str(value).expect("header"),
            );
            assert_eq!(
                retry_after(&headers, SystemTime::UNIX_EPOCH),
                None,
                "{value}"
            );
        }
    }

    fn outgoing(url: &str) -> Outgoing {
        Outgoing {
            method: Method::Get,
            url: Url::parse(url).expect("url"),
            headers: Vec::new(),
            body: None,
            allow_local: true,
            idempotent: true,
        }
    }

    /// Issue 15 item 11: a body over the limit is refused with an explicit error, not cut.
    #[tokio::test]
    async fn an_oversized_body_is_refused() {
        let server = MockServer::start();
        let big = "x".repeat(MAX_BODY + 1);
        server.on("GET", "/big", MockResponse::text(200, &big));
        server.on("GET", "/fits", MockResponse::text(200, &big[..MAX_BODY]));
        let options = NetOptions::default();
        let clients = Clients::new(&options).expect("clients");
        let refused = clients
            .send(&outgoing(&format!("{}/big", server.url())), &options)
            .await;
        assert_eq!(
            refused.err(),
            Some(SendFailure::TooLarge { limit: MAX_BODY })
        );
        let error = NetError::from(SendFailure::TooLarge { limit: MAX_BODY });
        assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
        let fits = clients
            .send(&outgoing(&format!("{}/fits", server.url())), &options)
            .await
            .expect("fits");
        assert_eq!(fits.body.len(), MAX_BODY);
    }

    /// Issue 15 item 16: loopback allowed for tests never opens link-local / metadata addresses.
    #[tokio::test]
    async fn a_local_service_never_reaches_link_local_addresses() {
        let options = NetOptions::default();
        let clients = Clients::new(&options).expect("clients");
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://metadata.google.internal/",
            "http://0.0.0.0/",
        ] {
            let result = clients.send(&outgoing(url), &options).await;
            assert!(
                matches!(result, Err(SendFailure::Refused(_))),
                "{url}: {result:?}"
            );
        }
    }
}
