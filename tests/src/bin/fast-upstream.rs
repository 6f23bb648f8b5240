//! The benchmark's upstream: an OpenAI-compatible responder that does as little as possible,
//! so it is never the bottleneck. One thread per keep-alive connection; reads the request,
//! answers a fixed chat completion (or a fixed SSE stream when the body asks for one).
//!
//! `fast-upstream ADDR` (e.g. `127.0.0.1:18100`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

const JSON: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":1,"total_tokens":251}}"#;

fn sse() -> String {
    let chunk = |c: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{c}\"}},\"finish_reason\":null}}]}}\n\n"
        )
    };
    let mut s = String::new();
    for w in ["one", " two", " three", " four"] {
        s.push_str(&chunk(w));
    }
    s.push_str("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":250,\"completion_tokens\":4,\"total_tokens\":254}}\n\n");
    s.push_str("data: [DONE]\n\n");
    s
}

fn serve(conn: TcpStream, stream_body: &str) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::with_capacity(64 * 1024, conn);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut len = 0usize;
        let mut chunked = false;
        let mut first = true;
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() && !first {
                break;
            }
            first = false;
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.trim().eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        body.clear();
        if chunked {
            loop {
                line.clear();
                r.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                r.read_exact(&mut chunk)?;
                body.extend_from_slice(&chunk[..n]);
                if n == 0 {
                    break;
                }
            }
        } else {
            body.resize(len, 0);
            r.read_exact(&mut body)?;
        }
        let streams = body.windows(13).any(|w| w == b"\"stream\":true");
        if streams {
            write!(
                w,
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n{stream_body}",
                stream_body.len()
            )?;
        } else {
            write!(
                w,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{JSON}",
                JSON.len()
            )?;
        }
        w.flush()?;
    }
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18100".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
        eprintln!("fast-upstream: cannot listen on {addr}: {e}");
        std::process::exit(2)
    });
    println!("fast-upstream on {addr}");
    let body: &'static str = Box::leak(sse().into_boxed_str());
    for conn in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = serve(conn, body);
        });
    }
}
