//! The benchmark's load generator: HTTP/1.1 keep-alive POSTs of one body, on N connections
//! (one thread each), closed loop for a duration, or open loop at a fixed total rate (latency
//! counted from each request's scheduled time, so a stall is not hidden). Prints one JSON line:
//! requests, errors, seconds, rps, p50_us, p90_us, p99_us, and `failed`: the errors by status
//! (`"0"` when no status could be read, not even after a failed write).
//!
//! `load --addr 127.0.0.1:10000 --path /v1/chat/completions --body FILE [--header K:V]...
//!       [--connections N] [--seconds S] [--rate R]`

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Args {
    addr: String,
    path: String,
    body: Vec<u8>,
    headers: Vec<String>,
    connections: usize,
    seconds: f64,
    rate: Option<f64>,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:10000".into(),
        path: "/v1/chat/completions".into(),
        body: Vec::new(),
        headers: Vec::new(),
        connections: 1,
        seconds: 3.0,
        rate: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--addr" => a.addr = v,
            "--path" => a.path = v,
            "--body" => a.body = std::fs::read(&v).unwrap_or_else(|e| panic!("{v}: {e}")),
            "--header" => a.headers.push(v),
            "--connections" => a.connections = v.parse().unwrap_or(1),
            "--seconds" => a.seconds = v.parse().unwrap_or(3.0),
            "--rate" => a.rate = v.parse().ok(),
            _ => panic!("unknown argument {k}"),
        }
    }
    a
}

/// Reads one response; returns its status. Handles content-length and chunked bodies.
/// Reads one response whole: its status, and whether the server closes the connection after it.
fn read_response(r: &mut BufReader<TcpStream>, line: &mut String) -> std::io::Result<(u16, bool)> {
    line.clear();
    r.read_line(line)?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (mut len, mut chunked, mut close) = (0usize, false, false);
    loop {
        line.clear();
        if r.read_line(line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.eq_ignore_ascii_case("chunked");
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            }
        }
    }
    let mut sink = vec![0u8; 64 * 1024];
    if chunked {
        loop {
            line.clear();
            r.read_line(line)?;
            let mut n = usize::from_str_radix(line.trim(), 16).unwrap_or(0) + 2;
            let last = n == 2;
            while n > 0 {
                let k = n.min(sink.len());
                r.read_exact(&mut sink[..k])?;
                n -= k;
            }
            if last {
                break;
            }
        }
    } else {
        let mut n = len;
        while n > 0 {
            let k = n.min(sink.len());
            r.read_exact(&mut sink[..k])?;
            n -= k;
        }
    }
    Ok((status, close))
}

fn connect(addr: &str) -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let r = BufReader::with_capacity(64 * 1024, s.try_clone()?);
    Ok((s, r))
}

fn worker(
    a: &Args,
    request: &[u8],
    start: Instant,
    interval: Option<Duration>,
    offset: Duration,
) -> (Vec<u32>, BTreeMap<u16, u64>) {
    let mut lat = Vec::with_capacity(100_000);
    let mut errors = BTreeMap::new();
    let end = start + Duration::from_secs_f64(a.seconds);
    let Ok((mut w, mut r)) = connect(&a.addr) else { return (lat, BTreeMap::from([(0, 1)])) };
    let mut line = String::new();
    let mut next = start + offset;
    loop {
        let scheduled = match interval {
            Some(iv) => {
                // Sleep most of the way, then spin: a sleeping thread wakes late, and that
                // lateness would be counted as the proxy's latency.
                let spin = Duration::from_micros(300);
                let now = Instant::now();
                if next > now + spin {
                    std::thread::sleep(next - now - spin);
                }
                while Instant::now() < next {
                    std::hint::spin_loop();
                }
                let s = next;
                next += iv;
                s
            }
            None => Instant::now(),
        };
        if scheduled >= end {
            break;
        }
        // A server may answer before the body is all sent (a local reply) and close: its
        // status is still read after the write fails.
        let sent = w.write_all(request);
        let answer = read_response(&mut r, &mut line);
        let (status, reconnect) = match (&sent, answer) {
            (Ok(()), Ok((status, close))) => (status, close),
            (Err(_), Ok((status, _))) => (status, true),
            (_, Err(_)) => (0, true),
        };
        if status == 200 {
            lat.push(scheduled.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            *errors.entry(status).or_default() += 1;
        }
        if reconnect {
            match connect(&a.addr) {
                Ok((w2, r2)) => (w, r) = (w2, r2),
                Err(_) => break,
            }
        }
    }
    (lat, errors)
}

fn main() {
    let a = args();
    let mut req = format!(
        "POST {} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        a.path,
        a.body.len()
    );
    for h in &a.headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let mut request = req.into_bytes();
    request.extend_from_slice(&a.body);
    let interval = a.rate.map(|r| Duration::from_secs_f64(a.connections as f64 / r));
    let start = Instant::now() + Duration::from_millis(20);
    let results: Vec<(Vec<u32>, BTreeMap<u16, u64>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..a.connections)
            .map(|i| {
                let offset =
                    interval.map_or(Duration::ZERO, |iv| iv.mul_f64(i as f64 / a.connections as f64));
                let (a, request) = (&a, &request);
                s.spawn(move || worker(a, request, start, interval, offset))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let secs = a.seconds;
    let mut lat: Vec<u32> = results.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    let mut failed: BTreeMap<u16, u64> = BTreeMap::new();
    for (status, n) in results.iter().flat_map(|(_, e)| e) {
        *failed.entry(*status).or_default() += n;
    }
    let errors: u64 = failed.values().sum();
    let failed: Vec<String> = failed.iter().map(|(s, n)| format!("\"{s}\":{n}")).collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or(0)
    };
    println!(
        "{{\"requests\":{},\"errors\":{errors},\"failed\":{{{}}},\"seconds\":{secs},\"rps\":{:.1},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{}}}",
        lat.len(),
        failed.join(","),
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99)
    );
}
