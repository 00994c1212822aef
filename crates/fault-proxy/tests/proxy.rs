//! Integration tests: spawn the built `fault-proxy` binary in front of a tiny
//! upstream started here, drive it over the control API, and check what a
//! client and the upstream see.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

/// Upper bound for anything a test waits on (startup, exit, a request).
const TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- the proxy

/// A running `fault-proxy`; killed on drop if still running.
struct Proxy {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT`
    addr: String,
}

impl Proxy {
    fn spawn(upstream: Option<&str>) -> Proxy {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fault-proxy"));
        if let Some(upstream) = upstream {
            cmd.args(["--upstream", upstream]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn fault-proxy");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        // Read the address line on a thread so the wait can be bounded.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let res = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(res);
        });
        let mut proxy = Proxy {
            child: Some(child),
            stdin,
            addr: String::new(),
        };
        let line = rx
            .recv_timeout(TIMEOUT)
            .expect("no address line in time")
            .expect("read address line");
        assert!(line.ends_with('\n'), "one line: {line:?}");
        let v: Value = serde_json::from_str(&line).expect("address line is JSON");
        assert_eq!(v.as_object().unwrap().len(), 1, "only addr: {line}");
        proxy.addr = v["addr"].as_str().unwrap().to_owned();
        assert!(proxy.addr.starts_with("http://127.0.0.1:"), "{line}");
        proxy
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Waits (bounded) for the process to exit; `None` if it did not.
    fn wait_exit(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take().unwrap();
        let pid = child.id() as i32;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(TIMEOUT) {
            Ok(status) => Some(status.expect("wait")),
            Err(_) => {
                // Still running: kill our own child so it is not left behind.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                None
            }
        }
    }

    async fn add_rule(&self, rule: Value) -> u64 {
        let (status, body) = post_json(&self.url("/__proxy/rules"), &rule).await;
        assert_eq!(status, StatusCode::OK, "add rule {rule}: {body}");
        body["id"].as_u64().expect("rule id")
    }

    async fn requests(&self) -> Vec<Value> {
        let resp = send(get(&self.url("/__proxy/requests"))).await.unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&resp.body.unwrap()).unwrap();
        v.as_array().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ------------------------------------------------------------- the upstream

/// What the upstream saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A hyper server on 127.0.0.1:0 that records every request and answers
/// 201 with two `set-cookie` headers, `x-upstream: yes` and a JSON body.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

const UPSTREAM_BODY: &str = r#"{"data":{"from":"upstream"}}"#;

impl Upstream {
    async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        log.lock().unwrap().push(Seen {
                            method: parts.method,
                            uri: parts.uri.to_string(),
                            headers: parts.headers,
                            body,
                        });
                        let resp = Response::builder()
                            .status(201)
                            .header("x-upstream", "yes")
                            .header("set-cookie", "a=1")
                            .header("set-cookie", "b=2")
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(UPSTREAM_BODY.as_bytes())))
                            .unwrap();
                        Ok::<_, Infallible>(resp)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Upstream { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

// --------------------------------------------------------------- the client

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    /// Err if the connection broke while reading the body.
    body: Result<Bytes, String>,
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url).body(Full::default()).unwrap()
}

/// Sends one request on a fresh client; Err if no response head arrived.
async fn send(req: Request<Full<Bytes>>) -> Result<Answer, String> {
    tokio::time::timeout(TIMEOUT, async {
        let resp = client().request(req).await.map_err(|e| format!("{e:?}"))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| format!("{e:?}"));
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    })
    .await
    .expect("request timed out")
}

async fn post_json(url: &str, value: &Value) -> (StatusCode, Value) {
    let req = Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap();
    let resp = send(req).await.unwrap();
    let body = serde_json::from_slice(&resp.body.unwrap()).unwrap();
    (resp.status, body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

// -------------------------------------------------------------------- tests

#[tokio::test]
async fn passthrough_preserves_request_and_response() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));

    let req = Request::builder()
        .method("PUT")
        .uri(proxy.url("/v1/secret/data/foo?version=2&x=%20y"))
        .header("x-vault-token", "s.secret")
        .header("x-vault-request", "true")
        .header("x-multi", "1")
        .header("x-multi", "2")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{\"data\":{\"k\":\"v\"}}")))
        .unwrap();
    let resp = send(req).await.unwrap();

    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(header(&resp.headers, "x-upstream"), Some("yes"));
    let cookies: Vec<_> = resp.headers.get_all("set-cookie").iter().collect();
    assert_eq!(
        cookies,
        [
            HeaderValue::from_static("a=1"),
            HeaderValue::from_static("b=2")
        ]
    );
    assert_eq!(resp.body.unwrap(), UPSTREAM_BODY.as_bytes());

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(seen.method, Method::PUT);
    assert_eq!(seen.uri, "/v1/secret/data/foo?version=2&x=%20y");
    assert_eq!(&seen.body[..], b"{\"data\":{\"k\":\"v\"}}");
    // The upstream gets the real token; only the log redacts it.
    assert_eq!(header(&seen.headers, "x-vault-token"), Some("s.secret"));
    assert_eq!(header(&seen.headers, "x-vault-request"), Some("true"));
    let multi: Vec<_> = seen.headers.get_all("x-multi").iter().collect();
    assert_eq!(multi, ["1", "2"]);
    // The Host the client sent is kept.
    assert_eq!(
        header(&seen.headers, "host"),
        Some(proxy.addr.trim_start_matches("http://"))
    );
}

#[test]
fn header_name_case_is_preserved() {
    // A raw upstream that captures the request head and answers with a
    // mixed-case header name.
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = upstream.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nX-Upstream-Case: Yes\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        let _ = tx.send(String::from_utf8(head).unwrap());
    });

    let proxy = Proxy::spawn(Some(&format!("http://{upstream_addr}")));
    let mut client =
        std::net::TcpStream::connect(proxy.addr.trim_start_matches("http://")).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client
        .write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: vault\r\nX-Vault-Request: true\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();

    let head = rx.recv_timeout(TIMEOUT).unwrap();
    assert!(
        head.starts_with("GET /v1/sys/health HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nX-Vault-Request: true\r\n"), "{head}");
    assert!(head.contains("\r\nHost: vault\r\n"), "{head}");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("\r\nX-Upstream-Case: Yes\r\n"),
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\nok"), "{response}");
}

#[tokio::test]
async fn status_rule_with_times_fires_then_passes_through() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));
    let id = proxy
        .add_rule(json!({
            "method": "get",
            "path": "^/v1/secret/data/foo$",
            "times": 2,
            "action": {
                "type": "status",
                "status": 429,
                "headers": {"Retry-After": "2"},
                "body": "{\"errors\":[\"rate limit quota exceeded\"]}"
            }
        }))
        .await;

    // Another method and another path do not match.
    let post = Request::post(proxy.url("/v1/secret/data/foo"))
        .body(Full::default())
        .unwrap();
    assert_eq!(send(post).await.unwrap().status, StatusCode::CREATED);
    let other = send(get(&proxy.url("/v1/secret/data/foobar")))
        .await
        .unwrap();
    assert_eq!(other.status, StatusCode::CREATED);

    for _ in 0..2 {
        let resp = send(get(&proxy.url("/v1/secret/data/foo?x=1")))
            .await
            .unwrap();
        assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&resp.headers, "retry-after"), Some("2"));
        assert_eq!(
            header(&resp.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(
            resp.body.unwrap(),
            "{\"errors\":[\"rate limit quota exceeded\"]}"
        );
    }
    let resp = send(get(&proxy.url("/v1/secret/data/foo"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(
        upstream.seen().len(),
        3,
        "faulted requests are not forwarded"
    );

    let log = proxy.requests().await;
    let rules: Vec<_> = log.iter().map(|e| e["rule"].clone()).collect();
    assert_eq!(
        rules,
        [json!(null), json!(null), json!(id), json!(id), json!(null)]
    );
    let statuses: Vec<_> = log.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 201, 429, 429, 201]);
    assert_eq!(log[2]["action"], "status");

    let (_, rules) = get_json(&proxy.url("/__proxy/rules")).await;
    assert_eq!(rules[0]["id"], id);
    assert_eq!(rules[0]["remaining"], 0);
    assert_eq!(rules[0]["hits"], 2);
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let resp = send(get(url)).await.unwrap();
    (
        resp.status,
        serde_json::from_slice(&resp.body.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn first_live_rule_in_insertion_order_wins() {
    let proxy = Proxy::spawn(None);
    let once = proxy
        .add_rule(json!({"times": 1, "action": {"type": "status", "status": 503}}))
        .await;
    let always = proxy
        .add_rule(
            json!({"path": "^/v1/", "action": {"type": "canned", "status": 200, "body": "{}"}}),
        )
        .await;
    let never = proxy
        .add_rule(json!({"action": {"type": "status", "status": 500}}))
        .await;
    assert!(once < always && always < never);

    let first = send(get(&proxy.url("/v1/a"))).await.unwrap();
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.body.unwrap(), "{\"errors\":[]}", "default body");
    for _ in 0..2 {
        assert_eq!(
            send(get(&proxy.url("/v1/a"))).await.unwrap().status,
            StatusCode::OK
        );
    }
    let unmatched = send(get(&proxy.url("/other"))).await.unwrap();
    assert_eq!(unmatched.status, StatusCode::INTERNAL_SERVER_ERROR);

    // DELETE /__proxy/rules removes them all; ids keep counting.
    let req = Request::delete(proxy.url("/__proxy/rules"))
        .body(Full::default())
        .unwrap();
    assert_eq!(send(req).await.unwrap().status, StatusCode::OK);
    let resp = send(get(&proxy.url("/v1/a"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        resp.body.unwrap(),
        r#"{"errors":["fault-proxy: no upstream"]}"#
    );
    let next = proxy.add_rule(json!({"action": {"type": "close"}})).await;
    assert_eq!(next, never + 1);
}

#[tokio::test]
async fn log_counts_requests_and_redacts_tokens() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));
    for i in 0..3 {
        let req = Request::post(proxy.url(&format!("/v1/auth/token/lookup-self?n={i}")))
            .header("X-Vault-Token", "s.very-secret")
            .header("Authorization", "Bearer s.very-secret")
            .header("X-Vault-Request", "true")
            .body(Full::new(Bytes::from_static(b"12345")))
            .unwrap();
        assert_eq!(send(req).await.unwrap().status, StatusCode::CREATED);
    }
    // Control requests are neither forwarded nor logged.
    let (status, health) = get_json(&proxy.url("/__proxy/health")).await;
    assert_eq!((status, health), (StatusCode::OK, json!({"ok": true})));

    let log = proxy.requests().await;
    assert_eq!(log.len(), 3);
    assert_eq!(upstream.seen().len(), 3);
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry["method"], "POST");
        assert_eq!(entry["path"], "/v1/auth/token/lookup-self");
        assert_eq!(entry["query"], format!("n={i}"));
        assert_eq!(entry["body_len"], 5);
        assert_eq!(entry["rule"], Value::Null);
        assert_eq!(entry["status"], 201);
        assert_eq!(entry["headers"]["x-vault-token"], "<redacted>");
        assert_eq!(entry["headers"]["authorization"], "<redacted>");
        assert_eq!(entry["headers"]["x-vault-request"], "true");
    }
    let text = Value::Array(log).to_string();
    assert!(!text.contains("very-secret"), "{text}");

    let req = Request::delete(proxy.url("/__proxy/requests"))
        .body(Full::default())
        .unwrap();
    assert_eq!(send(req).await.unwrap().status, StatusCode::OK);
    assert!(proxy.requests().await.is_empty());
    send(get(&proxy.url("/v1/sys/health"))).await.unwrap();
    let log = proxy.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["query"], Value::Null);
}

#[tokio::test]
async fn close_mid_response_breaks_the_body() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));
    let id = proxy
        .add_rule(json!({"action": {"type": "close_mid_response", "status": 200, "bytes": 10}}))
        .await;

    let resp = send(get(&proxy.url("/v1/secret/data/foo"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(header(&resp.headers, "content-length"), Some("1034"));
    let err = resp.body.expect_err("the body must not read as complete");
    assert!(err.contains("IncompleteBody"), "{err}");
    assert!(
        upstream.seen().is_empty(),
        "close_mid_response does not forward"
    );

    let log = proxy.requests().await;
    assert_eq!(log[0]["rule"], id);
    assert_eq!(log[0]["action"], "close_mid_response");
    assert_eq!(log[0]["status"], 200);
}

#[test]
fn close_mid_response_sends_exactly_the_announced_prefix() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let proxy = Proxy::spawn(None);
    rt.block_on(
        proxy.add_rule(
            json!({"action": {"type": "close_mid_response", "status": 503, "bytes": 10}}),
        ),
    );
    let mut stream =
        std::net::TcpStream::connect(proxy.addr.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /v1/x HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap(); // returns at the proxy's close
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: 1034\r\n\r\n{\"data\":{\""
    );
}

#[tokio::test]
async fn close_answers_nothing() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));
    let id = proxy
        .add_rule(json!({"path": "^/v1/sys/health$", "times": 1, "action": {"type": "close"}}))
        .await;

    let err = send(get(&proxy.url("/v1/sys/health")))
        .await
        .err()
        .expect("no response");
    assert!(
        err.contains("IncompleteMessage") || err.contains("closed"),
        "{err}"
    );
    assert!(upstream.seen().is_empty());
    // Exhausted: the next one passes.
    let resp = send(get(&proxy.url("/v1/sys/health"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::CREATED);

    let log = proxy.requests().await;
    assert_eq!(log[0]["rule"], id);
    assert_eq!(log[0]["action"], "close");
    assert_eq!(log[0]["status"], Value::Null);
    assert_eq!(log[1]["status"], 201);
}

#[tokio::test]
async fn oversized_has_exact_length_and_is_json() {
    let proxy = Proxy::spawn(None);
    proxy
        .add_rule(json!({"action": {"type": "oversized", "bytes": 20_000_000}}))
        .await;
    let resp = send(get(&proxy.url("/v1/secret/data/big"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(header(&resp.headers, "content-length"), Some("20000000"));
    assert_eq!(
        header(&resp.headers, "content-type"),
        Some("application/json")
    );
    let body = resp.body.unwrap();
    assert_eq!(body.len(), 20_000_000);
    let v: Value = serde_json::from_slice(&body).expect("valid JSON");
    assert_eq!(v["data"]["pad"].as_str().unwrap().len(), 20_000_000 - 19);
}

#[tokio::test]
async fn redirect_sets_location() {
    let proxy = Proxy::spawn(None);
    proxy
        .add_rule(json!({"path": "^/origin/", "action": {"type": "redirect", "location": "http://127.0.0.1:1234"}}))
        .await;
    proxy
        .add_rule(json!({"path": "^/slash/", "action": {"type": "redirect", "location": "http://127.0.0.1:1234/", "status": 308}}))
        .await;
    proxy
        .add_rule(json!({"path": "^/full/", "action": {"type": "redirect", "location": "http://127.0.0.1:1234/v1/elsewhere"}}))
        .await;

    let cases = [
        (
            "/origin/v1/a?b=c",
            307,
            "http://127.0.0.1:1234/origin/v1/a?b=c",
        ),
        ("/slash/v1/a", 308, "http://127.0.0.1:1234/slash/v1/a"),
        ("/full/v1/a?b=c", 307, "http://127.0.0.1:1234/v1/elsewhere"),
    ];
    for (path, status, location) in cases {
        let resp = send(get(&proxy.url(path))).await.unwrap();
        assert_eq!(resp.status.as_u16(), status, "{path}");
        assert_eq!(header(&resp.headers, "location"), Some(location), "{path}");
        assert_eq!(resp.body.unwrap().len(), 0);
    }
}

#[tokio::test]
async fn delay_waits_then_forwards() {
    let upstream = Upstream::start().await;
    let proxy = Proxy::spawn(Some(&upstream.url()));
    proxy
        .add_rule(json!({"times": 1, "action": {"type": "delay", "ms": 300}}))
        .await;
    let started = Instant::now();
    let resp = send(get(&proxy.url("/v1/slow"))).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.body.unwrap(), UPSTREAM_BODY.as_bytes());
    assert_eq!(upstream.seen().len(), 1);
    assert_eq!(proxy.requests().await[0]["status"], 201);
}

#[tokio::test]
async fn canned_answers_and_header_override() {
    let proxy = Proxy::spawn(None);
    let body = r#"{"data":{"data":{"password":"hunter2"},"metadata":{"version":1}}}"#;
    proxy
        .add_rule(json!({"path": "^/v1/secret/data/bench$", "action": {"type": "canned", "status": 200, "body": body}}))
        .await;
    proxy
        .add_rule(json!({"path": "^/text$", "action": {"type": "canned", "status": 200, "headers": {"Content-Type": "text/plain"}, "body": "hi"}}))
        .await;
    let resp = send(get(&proxy.url("/v1/secret/data/bench")))
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        header(&resp.headers, "content-type"),
        Some("application/json")
    );
    assert_eq!(resp.body.unwrap(), body);
    let resp = send(get(&proxy.url("/text"))).await.unwrap();
    assert_eq!(header(&resp.headers, "content-type"), Some("text/plain"));
    assert_eq!(resp.body.unwrap(), "hi");
}

#[tokio::test]
async fn unreachable_upstream_is_502() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = Proxy::spawn(Some(&format!("http://127.0.0.1:{port}")));
    let resp = send(get(&proxy.url("/v1/sys/health"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::BAD_GATEWAY);
    let v: Value = serde_json::from_slice(&resp.body.unwrap()).unwrap();
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("fault-proxy: upstream"),
        "{v}"
    );
    assert_eq!(proxy.requests().await[0]["status"], 502);
}

#[tokio::test]
async fn invalid_rules_and_unknown_endpoints_are_rejected() {
    let proxy = Proxy::spawn(None);
    let bad = [
        json!({"action": {"type": "explode"}}),
        json!({"times": 1}),
        json!({"time": 1, "action": {"type": "close"}}),
        json!({"path": "(", "action": {"type": "close"}}),
        json!({"action": {"type": "status", "status": 42}}),
        json!({"action": {"type": "status", "status": 429, "headers": {"bad name": "x"}}}),
        json!({"action": {"type": "oversized", "bytes": 1u64 << 40}}),
    ];
    for rule in bad {
        let (status, body) = post_json(&proxy.url("/__proxy/rules"), &rule).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}");
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap()
                .starts_with("fault-proxy: "),
            "{body}"
        );
    }
    let (status, _) = get_json(&proxy.url("/__proxy/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let req = Request::put(proxy.url("/__proxy/rules"))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        send(req).await.unwrap().status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert!(proxy.requests().await.is_empty());
}

#[test]
fn exits_when_stdin_closes() {
    let mut proxy = Proxy::spawn(None);
    drop(proxy.stdin.take());
    let status = proxy.wait_exit().expect("exited after stdin EOF");
    assert!(status.success(), "{status:?}");
}

#[test]
fn exits_cleanly_on_sigterm() {
    let mut proxy = Proxy::spawn(None);
    // Our own child, by pid; stdin stays open so only the signal can stop it.
    assert_eq!(unsafe { libc::kill(proxy.pid(), libc::SIGTERM) }, 0);
    let status = proxy.wait_exit().expect("exited after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn exits_cleanly_on_sigint() {
    let mut proxy = Proxy::spawn(None);
    assert_eq!(unsafe { libc::kill(proxy.pid(), libc::SIGINT) }, 0);
    let status = proxy.wait_exit().expect("exited after SIGINT");
    assert!(status.success(), "{status:?}");
}
