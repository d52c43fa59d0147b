//! A minimal, defensive HTTP/1.1 server for the read-only web UI: GET and HEAD only,
//! one request per connection, bounded request size and time. Anything else gets a
//! clear 4xx; nothing a client sends can crash the server.

use std::time::Duration;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request: the path (percent-decoded, without the query) and the query
/// parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The path, e.g. `/api/experiments`.
    pub path: String,
    /// Query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// Whether only the head is wanted.
    pub head: bool,
    /// The `Host` header's name (without the port), lower-case.
    pub host: Option<String>,
}

/// The host name of a `Host` header value: `[::1]:8080` → `::1`, `Localhost:80` →
/// `localhost`.
fn host_name(value: &str) -> String {
    let v = value.trim();
    let name = match v.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => v.rsplit_once(':').map_or(v, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                v
            }
        }),
    };
    name.to_ascii_lowercase()
}

/// Which `Host` headers a loopback server answers: a loopback address or `localhost`.
/// Anything else is a page of another site that made the browser's request through a
/// name pointing at 127.0.0.1 (DNS rebinding): refused.
pub fn is_loopback_host(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Request {
    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(value: &serde_json::Value) -> Self {
        Response {
            status: 200,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    /// An error with a JSON body `{"error": message}`.
    pub fn error(status: u16, message: &str) -> Self {
        Response {
            status,
            content_type: "application/json",
            body: serde_json::json!({ "error": message })
                .to_string()
                .into_bytes(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        _ => "Internal Server Error",
    }
}

/// Percent-decodes `text` (`+` stays `+`); `None` for malformed escapes or non-UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a request head; `Err` is the response to send instead.
pub fn parse(head: &str) -> Result<Request, Response> {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Err(Response::error(400, "malformed request line"));
    };
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return Err(Response::error(400, "malformed request line"));
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Err(Response::error(405, "the web UI is read-only: GET only")),
    };
    if !target.starts_with('/') {
        return Err(Response::error(400, "the target must be a path"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path).ok_or_else(|| Response::error(400, "malformed path"))?;
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => params.push((k, v)),
            _ => return Err(Response::error(400, "malformed query")),
        }
    }
    let host = head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case("host").then(|| host_name(v))
    });
    Ok(Request {
        path,
        query: params,
        head: head_only,
        host,
    })
}

async fn read_head(stream: &mut TcpStream) -> Result<String, Response> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            break;
        }
        if buf.len() > MAX_HEAD {
            return Err(Response::error(413, "request head too large"));
        }
        let n = match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return Err(Response::error(400, "unreadable request")),
            Err(_) => return Err(Response::error(408, "request timeout")),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).map_err(|_| Response::error(400, "the request head is not UTF-8"))
}

async fn write(stream: &mut TcpStream, response: &Response, head_only: bool) {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    if !head_only {
        let _ = stream.write_all(&response.body).await;
    }
    let _ = stream.shutdown().await;
}

/// Serves `listener` forever, answering each request with `handle` (run on a blocking
/// thread: it reads SQLite). A panic in `handle` becomes a 500. With `loopback_only`,
/// a request whose `Host` is not a loopback name is refused (403).
pub async fn serve<H>(listener: TcpListener, loopback_only: bool, handle: H)
where
    H: Fn(&Request) -> Response + Send + Sync + Clone + 'static,
{
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let (response, head_only) = match read_head(&mut stream).await.and_then(|h| parse(&h)) {
                Err(r) => (r, false),
                Ok(req) if loopback_only && !req.host.as_deref().is_some_and(is_loopback_host) => (
                    Response::error(
                        403,
                        "the Host header must name this machine's loopback address (127.0.0.1 or localhost)",
                    ),
                    req.head,
                ),
                Ok(req) => {
                    let head_only = req.head;
                    let answer = tokio::task::spawn_blocking(move || {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&req)))
                    })
                    .await;
                    match answer {
                        Ok(Ok(r)) => (r, head_only),
                        _ => (Response::error(500, "internal error"), head_only),
                    }
                }
            };
            write(&mut stream, &response, head_only).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_pass() {
        let host = |h: &str| {
            parse(&format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n"))
                .unwrap()
                .host
                .unwrap()
        };
        for ok in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(&host(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "192.168.1.5",
            "127.0.0.1.evil.example",
            "[::2]",
        ] {
            assert!(!is_loopback_host(&host(bad)), "{bad}");
        }
        assert_eq!(parse("GET / HTTP/1.0\r\n\r\n").unwrap().host, None);
    }

    #[test]
    fn requests_parse_and_bad_ones_are_refused() {
        let r = parse("GET /api/x%20y?a=1&b=%2F HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(r.path, "/api/x y");
        assert_eq!(r.param("b"), Some("/"));
        assert_eq!(parse("POST / HTTP/1.1\r\n\r\n").unwrap_err().status, 405);
        assert_eq!(
            parse("GET / HTTP/1.1 extra\r\n\r\n").unwrap_err().status,
            400
        );
        assert_eq!(parse("GET /%zz HTTP/1.1\r\n\r\n").unwrap_err().status, 400);
        assert_eq!(
            parse("GET http://x/ HTTP/1.1\r\n\r\n").unwrap_err().status,
            400
        );
        assert_eq!(parse("").unwrap_err().status, 400);
    }
}
