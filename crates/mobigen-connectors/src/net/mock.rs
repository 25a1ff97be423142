//! A small HTTP/1.1 mock server on 127.0.0.1 for tests (feature `mock-server`, and this crate's
//! own tests). It answers each route with a scripted sequence of responses (the last one
//! repeats), can delay an answer or drop the connection, and records every request.
//!
//! It runs on plain threads, so it serves async and blocking tests alike.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

/// A scripted response.
#[derive(Debug, Clone)]
pub struct MockResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
    drop_connection: bool,
}

impl MockResponse {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> MockResponse {
        MockResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
            drop_connection: false,
        }
    }

    /// A plain text response.
    pub fn text(status: u16, body: &str) -> MockResponse {
        MockResponse {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
            drop_connection: false,
        }
    }

    /// Accepts a WebSocket handshake (`101 Switching Protocols`), then closes the connection.
    pub fn websocket_accepted() -> MockResponse {
        MockResponse {
            status: 101,
            headers: vec![
                ("Upgrade".into(), "websocket".into()),
                ("Connection".into(), "Upgrade".into()),
                // Not derived from the request's key: no client under test checks it.
                (
                    "Sec-WebSocket-Accept".into(),
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                ),
            ],
            body: String::new(),
            delay: Duration::ZERO,
            drop_connection: false,
        }
    }

    /// Closes the connection after reading the request, without answering.
    pub fn dropped() -> MockResponse {
        MockResponse {
            drop_connection: true,
            ..MockResponse::text(500, "")
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> MockResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> MockResponse {
        self.delay = delay;
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Method (`GET`).
    pub method: String,
    /// Path with query (`/v1/projects?key=...`).
    pub target: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

#[derive(Debug)]
struct Route {
    method: String,
    path: String,
    responses: VecDeque<MockResponse>,
}

#[derive(Debug, Default)]
struct State {
    routes: Vec<Route>,
    requests: Vec<RecordedRequest>,
}

/// The server; stops accepting when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MockServer {
    /// Starts a server on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound (a test set-up failure).
    #[allow(clippy::expect_used)] // test support: failing to bind is a broken test machine
    pub fn start() -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&thread_state);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        MockServer { addr, state, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Adds `response` to the sequence of `method path` (path without query; a trailing `*`
    /// matches any rest).
    pub fn on(&self, method: &str, path: &str, response: MockResponse) -> &MockServer {
        let mut state = lock(&self.state);
        if let Some(route) = state
            .routes
            .iter_mut()
            .find(|r| r.method == method && r.path == path)
        {
            route.responses.push_back(response);
        } else {
            state.routes.push(Route {
                method: method.into(),
                path: path.into(),
                responses: VecDeque::from([response]),
            });
        }
        self
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// How many requests hit `method path` (path without query).
    pub fn hits(&self, method: &str, path: &str) -> usize {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| r.method == method && r.path() == path)
            .count()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn read_request(stream: &TcpStream) -> Option<RecordedRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(RecordedRequest {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        101 => "Switching Protocols",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let response = {
        let mut state = lock(state);
        let path = request.path().to_string();
        let response = state
            .routes
            .iter_mut()
            .find(|r| {
                r.method == request.method
                    && match r.path.strip_suffix('*') {
                        Some(prefix) => path.starts_with(prefix),
                        None => r.path == path,
                    }
            })
            .and_then(|route| {
                if route.responses.len() > 1 {
                    route.responses.pop_front()
                } else {
                    route.responses.front().cloned()
                }
            });
        state.requests.push(request);
        response.unwrap_or_else(|| {
            MockResponse::json(
                404,
                serde_json::json!({"mock": "no route for this request"}),
            )
        })
    };
    if !response.delay.is_zero() {
        std::thread::sleep(response.delay);
    }
    if response.drop_connection {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    if response.status != 101 {
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n",
            response.body.len()
        ));
    }
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(response.body.as_bytes());
    let _ = stream.flush();
}
