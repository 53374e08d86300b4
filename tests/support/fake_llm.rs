//! A fake OpenAI-compatible `/v1/chat/completions` server for the tests: std::net on
//! 127.0.0.1:0 (no network), a thread per connection, keep-alive. Every request is
//! answered by a script (status, headers, body, delay, stall, a cut-short body) and
//! logged; the server counts the requests in flight and remembers the most at once.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub model: String,
    /// The user message.
    pub prompt: String,
    pub body: String,
    /// Every header line, as sent.
    pub headers: Vec<(String, String)>,
    /// The status answered.
    pub status: u16,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send the headers and half the body, then close.
    pub truncate: bool,
    /// Never answer (hold the connection until the server stops).
    pub stall: bool,
    /// The usage the body reports (for the log).
    pub tokens: (u64, u64),
}

impl Reply {
    /// A 200 whose answer is `text`, with usage.
    pub fn ok(text: &str, tokens_in: u64, tokens_out: u64) -> Reply {
        let body = serde_json::json!({
            "id": "x",
            "object": "chat.completion",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out },
        })
        .to_string();
        Reply { tokens: (tokens_in, tokens_out), ..Reply::raw(200, &body) }
    }

    /// A status with a body, as is.
    pub fn raw(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
            truncate: false,
            stall: false,
            tokens: (0, 0),
        }
    }

    /// An error status with an OpenAI-style error body.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::raw(status, &serde_json::json!({ "error": { "message": message } }).to_string())
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// The answer the default script gives: `echo: PROMPT`, with `len(prompt)` tokens in and 2
/// out.
pub fn echo(prompt: &str) -> Reply {
    Reply::ok(&format!("echo: {prompt}"), prompt.chars().count() as u64, 2)
}

type Script = Box<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

struct State {
    script: Script,
    log: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    connections: AtomicUsize,
    requests: AtomicUsize,
    stop: AtomicBool,
    /// Per answered request: from its last byte read to its answer written.
    handling: Mutex<Vec<Duration>>,
}

pub struct FakeLlm {
    pub port: u16,
    state: Arc<State>,
}

impl FakeLlm {
    /// A server that answers every request with `echo`.
    pub fn echo() -> FakeLlm {
        FakeLlm::start(|s, _| echo(&s.prompt))
    }

    /// A server answering request number `n` (from 0, in arrival order) with `script`.
    pub fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> FakeLlm {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            script: Box::new(script),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            handling: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                st.connections.fetch_add(1, SeqCst);
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        FakeLlm { port, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The requests answered so far, in the order their answers were decided.
    pub fn log(&self) -> Vec<Seen> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(SeqCst)
    }

    /// How long the server took over each answered request (for the benchmarks).
    pub fn handling(&self) -> Vec<Duration> {
        self.state.handling.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(SeqCst)
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.state.stop.store(true, SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, st: &State) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut w = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_string(), v.trim().to_string());
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let started = Instant::now();
        let body = String::from_utf8_lossy(&body).into_owned();
        let now = st.in_flight.fetch_add(1, SeqCst) + 1;
        st.max_in_flight.fetch_max(now, SeqCst);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let mut seen = Seen {
            at: Instant::now(),
            model: v["model"].as_str().unwrap_or("").to_string(),
            prompt: v["messages"][0]["content"].as_str().unwrap_or("").to_string(),
            body,
            headers,
            status: 0,
            tokens_in: 0,
            tokens_out: 0,
        };
        let n = st.requests.fetch_add(1, SeqCst);
        let reply = (st.script)(&seen, n);
        seen.status = reply.status;
        (seen.tokens_in, seen.tokens_out) = reply.tokens;
        st.log.lock().unwrap().push(seen);
        if reply.stall {
            while !st.stop.load(SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            st.in_flight.fetch_sub(1, SeqCst);
            return;
        }
        std::thread::sleep(reply.delay);
        let mut head = format!("HTTP/1.1 {} X\r\nContent-Type: application/json\r\n", reply.status);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        // The answer leaves the in-flight count just before it is sent: the client may
        // start its next request as soon as it has read this one.
        st.in_flight.fetch_sub(1, SeqCst);
        if reply.truncate {
            let half = &reply.body.as_bytes()[..reply.body.len() / 2];
            let _ = w.write_all(head.as_bytes());
            let _ = w.write_all(half);
            let _ = w.flush();
            return;
        }
        let mut out = head.into_bytes();
        out.extend_from_slice(reply.body.as_bytes());
        if w.write_all(&out).is_err() || w.flush().is_err() {
            return;
        }
        st.handling.lock().unwrap().push(started.elapsed() - reply.delay);
    }
}
