//! A small OTLP/HTTP receiver: accepts `POST /v1/logs` and `POST /v1/traces` with protobuf
//! bodies (what Envoy's OpenTelemetry access logger and tracer send) and decodes the log
//! records and spans with the field numbers of the OpenTelemetry protobuf definitions
//! (`opentelemetry/proto/{collector,logs,trace,common}/v1`).

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::http::{read_body, read_head};

/// A log record or a span, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// `log` or `span`.
    pub kind: &'static str,
    /// A log record's string body, or a span's name.
    pub name: String,
    /// Attributes with string, integer, boolean or double values (as text).
    pub attributes: Vec<(String, String)>,
}

impl Record {
    /// An attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Records a receiver keeps (the oldest go first).
const MAX_RECORDS: usize = 10_000;

/// A running receiver.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Everything received so far.
    pub records: Arc<Mutex<Vec<Record>>>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub fn start() -> io::Result<Receiver> {
        Receiver::start_on("127.0.0.1:0")
    }

    /// Listens on `addr` (the demo's collector address, when no collector holds it).
    pub fn start_on(addr: &str) -> io::Result<Receiver> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = records.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let sink = sink.clone();
                thread::spawn(move || {
                    let _ = serve(conn, &sink);
                });
            }
        });
        Ok(Receiver { addr, records })
    }

    /// What was received so far.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve(conn: TcpStream, sink: &Mutex<Vec<Record>>) -> io::Result<()> {
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    while let Some(head) = read_head(&mut r)? {
        let body = read_body(&mut r, &head, false)?;
        let decoded = match head.second.as_str() {
            "/v1/logs" => Some(logs(&body)),
            "/v1/traces" => Some(spans(&body)),
            _ => None,
        };
        let status = match decoded {
            Some(Some(got)) => {
                if let Ok(mut s) = sink.lock() {
                    // Bounded: the demo's sink runs as long as the demo.
                    let len = s.len();
                    let over = (len + got.len()).saturating_sub(MAX_RECORDS);
                    s.drain(..over.min(len));
                    s.extend(got);
                }
                "200 OK"
            }
            Some(None) => "400 Bad Request",
            None => "404 Not Found",
        };
        write!(w, "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")?;
        w.flush()?;
    }
    Ok(())
}

/// One protobuf field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed64(u64),
    Fixed32,
}

fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The fields of a message, or `None` when it is not valid protobuf.
fn fields(b: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let key = varint(b, &mut at)?;
        let f = match key & 7 {
            0 => Field::Varint(varint(b, &mut at)?),
            1 => {
                let v = u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
                at += 8;
                Field::Fixed64(v)
            }
            2 => {
                let n = usize::try_from(varint(b, &mut at)?).ok()?;
                let v = b.get(at..at.checked_add(n)?)?;
                at += n;
                Field::Bytes(v)
            }
            5 => {
                b.get(at..at + 4)?;
                at += 4;
                Field::Fixed32
            }
            _ => return None,
        };
        out.push((key >> 3, f));
    }
    Some(out)
}

/// Sub-messages (or strings) under field `n`.
fn children(b: &[u8], n: u64) -> Option<Vec<&[u8]>> {
    Some(
        fields(b)?
            .into_iter()
            .filter_map(|(k, f)| if let (true, Field::Bytes(v)) = (k == n, f) { Some(v) } else { None })
            .collect(),
    )
}

/// `AnyValue`: string (1), bool (2), int (3), double (4).
fn any_value(b: &[u8]) -> Option<String> {
    fields(b)?.into_iter().find_map(|(k, f)| match (k, f) {
        (1, Field::Bytes(s)) => Some(String::from_utf8_lossy(s).into_owned()),
        (2, Field::Varint(v)) => Some((v != 0).to_string()),
        (3, Field::Varint(v)) => Some((v as i64).to_string()),
        (4, Field::Fixed64(v)) => Some(f64::from_bits(v).to_string()),
        _ => None,
    })
}

/// `KeyValue`: key (1), value (2).
fn key_values(list: Vec<&[u8]>) -> Option<Vec<(String, String)>> {
    list.into_iter()
        .map(|kv| {
            let key = children(kv, 1)?.first().map(|k| String::from_utf8_lossy(k).into_owned())?;
            let value = children(kv, 2)?.first().and_then(|v| any_value(v)).unwrap_or_default();
            Some((key, value))
        })
        .collect()
}

/// `ExportLogsServiceRequest` -> ResourceLogs (1) -> ScopeLogs (2) -> LogRecord (2):
/// body (5), attributes (6).
pub fn logs(b: &[u8]) -> Option<Vec<Record>> {
    let mut out = Vec::new();
    for rl in children(b, 1)? {
        for sl in children(rl, 2)? {
            for rec in children(sl, 2)? {
                let name = children(rec, 5)?.first().and_then(|v| any_value(v)).unwrap_or_default();
                out.push(Record { kind: "log", name, attributes: key_values(children(rec, 6)?)? });
            }
        }
    }
    Some(out)
}

/// `ExportTraceServiceRequest` -> ResourceSpans (1) -> ScopeSpans (2) -> Span (2): name (5),
/// attributes (9).
pub fn spans(b: &[u8]) -> Option<Vec<Record>> {
    let mut out = Vec::new();
    for rs in children(b, 1)? {
        for ss in children(rs, 2)? {
            for span in children(ss, 2)? {
                let name = children(span, 5)?
                    .first()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default();
                out.push(Record { kind: "span", name, attributes: key_values(children(span, 9)?)? });
            }
        }
    }
    Some(out)
}
