//! Minimal HTTP/1.1 over `std::net`, for the mock provider and the test client.
//!
//! Hand-written on purpose: the tests need byte-exact bodies, arrival times of each chunk, and
//! the freedom to send malformed requests, which full clients hide.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A parsed request or response head.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// Request: method. Response: protocol version.
    pub first: String,
    /// Request: path. Response: status code.
    pub second: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// First value of a header (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads a head; `Ok(None)` on a clean end of stream before any byte.
pub fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let mut head = Head {
        first: parts.next().unwrap_or_default().to_string(),
        second: parts.next().unwrap_or_default().to_string(),
        headers: Vec::new(),
    };
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(Some(head));
        }
        if let Some((k, v)) = l.split_once(':') {
            head.headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

/// Reads `len` bytes, growing the buffer as bytes arrive: a peer's claimed length never
/// allocates more than it sends (a mock bounds what it reads with `Read::take`).
fn read_exactly(r: &mut impl BufRead, len: usize) -> io::Result<Vec<u8>> {
    let mut data = Vec::with_capacity(len.min(64 * 1024));
    r.take(len as u64).read_to_end(&mut data)?;
    if data.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body shorter than its length"));
    }
    Ok(data)
}

/// Reads one chunk of a chunked body; empty at the terminating chunk.
fn read_chunk(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let size_text = line.trim().split(';').next().unwrap_or_default();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {line:?}")))?;
    let data = read_exactly(r, size)?;
    let mut crlf = String::new();
    if size == 0 {
        // Trailers, if any, end with an empty line.
        loop {
            crlf.clear();
            if r.read_line(&mut crlf)? == 0 || crlf.trim().is_empty() {
                break;
            }
        }
    } else {
        r.read_line(&mut crlf)?;
    }
    Ok(data)
}

/// Reads a whole body framed by content-length or chunked encoding; `until_close` reads to
/// the end of the stream when neither is present (responses only).
pub fn read_body(r: &mut impl BufRead, head: &Head, until_close: bool) -> io::Result<Vec<u8>> {
    if head.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let chunk = read_chunk(r)?;
            if chunk.is_empty() {
                return Ok(body);
            }
            body.extend_from_slice(&chunk);
        }
    }
    if let Some(len) = head.header("content-length") {
        let len: usize = len.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad length"))?;
        return read_exactly(r, len);
    }
    let mut body = Vec::new();
    if until_close {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Head.
    pub head: Head,
    /// Body bytes.
    pub body: Vec<u8>,
    /// For chunked bodies: each chunk and when it arrived after the request was sent.
    pub chunks: Vec<(Duration, Vec<u8>)>,
}

impl Response {
    /// Header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// Body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends raw request bytes on a new connection and reads one response, recording when each
/// body chunk arrived.
pub fn send_raw(addr: SocketAddr, request: &[u8]) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request)?;
    let start = Instant::now();
    let mut r = BufReader::new(stream);
    let head =
        read_head(&mut r)?.ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let status = head.second.parse().unwrap_or(0);
    let mut chunks = Vec::new();
    let body = if head.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let chunk = read_chunk(&mut r)?;
            if chunk.is_empty() {
                break;
            }
            body.extend_from_slice(&chunk);
            chunks.push((start.elapsed(), chunk));
        }
        body
    } else {
        read_body(&mut r, &head, true)?
    };
    Ok(Response { status, head, body, chunks })
}

/// Sends a request with a content-length body on a new connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    send_raw(addr, &bytes)
}

/// `POST` JSON.
pub fn post_json(addr: SocketAddr, path: &str, body: &str) -> io::Result<Response> {
    request(addr, "POST", path, &[("content-type", "application/json")], body.as_bytes())
}
