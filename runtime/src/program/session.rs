//! A built pipeline driven by a host program (`kiln build --emit staticlib`, LANGUAGE.md
//! §5.1): the host opens a session with the executable's flags, says which sources it
//! feeds from memory and which sinks it wants through a callback, pushes bytes of each fed
//! source in pieces of any size, and finishes. The run starts at the first push (or at
//! `finish`) on a thread of its own, exactly as the executable runs (same params, errors
//! sink, stderr, exit code); a fed source reads the pushed bytes as it would read its file,
//! and a streamed sink's encoded rows go to the callback (on the run's ordered consumer
//! thread, in output order, whole rows per call) instead of its file.
//!
//! ```c
//! kiln_session *s = reviews_open(argc, argv);           /* NULL: bad flags (said on stderr) */
//! kiln_session_feed(s, "reviews");                      /* before the first push */
//! kiln_session_on_rows(s, "good", on_rows, user);       /* likewise */
//! kiln_session_push(s, "reviews", bytes, len);          /* any number of times */
//! int code = kiln_session_finish(s);                    /* 0, 1 or 2, as the executable */
//! ```

use super::Spec;
use super::main::{Args, help, parse_args, run_args};
use crate::exec::Streams;
use std::ffi::{CStr, c_char, c_void};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Pieces of pushed bytes in flight per fed source before `push` waits for the run.
const PIECES_IN_FLIGHT: usize = 16;

/// The callback of a streamed sink: `(user, sink name, encoded rows, length)`.
pub type RowsFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, usize);

/// An open session (`kiln_session *` in C).
pub struct Session {
    spec: Arc<Spec>,
    fns: Vec<usize>,
    table: (usize, usize),
    args: Args,
    streams: Arc<Streams>,
    feeds: Vec<(String, SyncSender<Vec<u8>>)>,
    run: Option<JoinHandle<i32>>,
}

/// A fed source: the pushed pieces, in order, until every sender is gone.
struct Fed {
    rx: Receiver<Vec<u8>>,
    piece: Vec<u8>,
    at: usize,
}

impl Read for Fed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.piece.len() {
            match self.rx.recv() {
                Ok(p) => {
                    self.piece = p;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A streamed sink: every write goes to the host's callback.
struct Callback {
    f: RowsFn,
    user: usize,
    name: std::ffi::CString,
}

impl Write for Callback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !buf.is_empty() {
            // SAFETY: the host promised (`kiln_session_on_rows`) that `f` may be called with
            // `user` until `kiln_session_finish` returns; the name and bytes live for the call.
            unsafe {
                (self.f)(self.user as *mut c_void, self.name.as_ptr(), buf.as_ptr(), buf.len())
            };
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// SAFETY: the host's `user` pointer is handed back to its own callback only, on the run's
// thread; the host promised the callback may be called from another thread.
unsafe impl Send for Callback {}

fn node_name(n: &super::NodeSpec) -> &str {
    use super::NodeSpec as N;
    match n {
        N::Errors => "errors",
        N::Source { name, .. }
        | N::Sink { name, .. }
        | N::Stage { name, .. }
        | N::Group { name, .. }
        | N::Seq { name, .. }
        | N::Agent { name, .. } => name,
    }
}

impl Session {
    fn has_source(&self, name: &str) -> bool {
        self.spec
            .nodes
            .iter()
            .any(|n| matches!(n, super::NodeSpec::Source { name: s, .. } if s == name))
    }

    /// The plan names of the sinks of stage (or source) `stage`, or of the sink named so.
    fn sinks_of(&self, stage: &str) -> Vec<String> {
        let nodes = &self.spec.nodes;
        nodes
            .iter()
            .filter_map(|n| match n {
                super::NodeSpec::Sink { input, name, .. }
                    if name == stage
                        || nodes.get(*input).is_some_and(|i| node_name(i) == stage) =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    }

    fn start(&mut self) {
        if self.run.is_some() {
            return;
        }
        let (spec, fns, table, args, streams) = (
            self.spec.clone(),
            self.fns.clone(),
            self.table,
            self.args.clone(),
            self.streams.clone(),
        );
        let t =
            std::thread::Builder::new().stack_size(crate::exec::WORKER_STACK).spawn(move || {
                let fns: Vec<*const u8> = fns.into_iter().map(|p| p as *const u8).collect();
                // SAFETY: the kept table the host's library defines (`kiln_session_open`), used by
                // this run only (one run per session; sessions of one library run one at a time,
                // see `kiln_session_open`).
                let table =
                    unsafe { std::slice::from_raw_parts_mut(table.0 as *mut *const u8, table.1) };
                run_args(&spec, &fns, table, &args, Some(streams))
            });
        self.run = t.ok();
    }
}

fn name<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the host passes a NUL-terminated string (contract of every entry point).
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Opens a session of the program (`NAME_open(argc, argv)` calls it with the program's
/// tables): `argv` as the executable's. `NULL` after printing `--help` or a usage error.
///
/// # Safety
/// As [`super::main::kiln_program_main`]. One session of a library runs at a time: they
/// share the program's kept table.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_session_open(
    argc: i32,
    argv: *const *const c_char,
    spec: *const u8,
    spec_len: usize,
    fns: *const *const u8,
    nfns: usize,
    kept: *mut *const u8,
    nkept: usize,
) -> *mut Session {
    let argv: Vec<String> = (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: `argc` C strings at `argv` (contract).
            let p = unsafe { *argv.add(i) };
            name(p).unwrap_or("").to_string()
        })
        .collect();
    // SAFETY: the caller's promises about the tables.
    let (bytes, fns) = unsafe {
        (std::slice::from_raw_parts(spec, spec_len), std::slice::from_raw_parts(fns, nfns))
    };
    let spec = match Spec::decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::ptr::null_mut();
        }
    };
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\nFor more information, try '--help'.");
            return std::ptr::null_mut();
        }
    };
    if args.help {
        print!("{}", help(&spec, argv.first().map_or("pipeline", String::as_str)));
        return std::ptr::null_mut();
    }
    Box::into_raw(Box::new(Session {
        spec: Arc::new(spec),
        fns: fns.iter().map(|p| *p as usize).collect(),
        table: (kept as usize, nkept),
        args,
        streams: Arc::new(Streams::default()),
        feeds: Vec::new(),
        run: None,
    }))
}

/// Feeds source `source` from memory (`kiln_session_push`) instead of its file. 0, or 1:
/// no such source, or the run has started.
///
/// # Safety
/// `s` is a session from `NAME_open`, not finished; `source` a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_session_feed(s: *mut Session, source: *const c_char) -> i32 {
    // SAFETY: a live session (contract).
    let (Some(s), Some(source)) = (unsafe { s.as_mut() }, name(source)) else { return 1 };
    if s.run.is_some() || !s.has_source(source) {
        return 1;
    }
    let (tx, rx) = sync_channel(PIECES_IN_FLIGHT);
    let fed: Box<dyn Read + Send> = Box::new(Fed { rx, piece: Vec::new(), at: 0 });
    if let Ok(mut v) = s.streams.sources.lock() {
        v.push((source.to_string(), fed));
    }
    s.feeds.push((source.to_string(), tx));
    0
}

/// Sends the encoded rows of the sinks of stage `sink` (every `sink sink -> ...`; `errors`
/// for the errors sink) to `f(user, sink, rows, len)` instead of their files. 0, or 1: no
/// such sink, or the run has started.
///
/// # Safety
/// `s` is a live session; `sink` a C string; `f` may be called with `user` from another
/// thread until `kiln_session_finish` returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_session_on_rows(
    s: *mut Session,
    sink: *const c_char,
    f: Option<RowsFn>,
    user: *mut c_void,
) -> i32 {
    // SAFETY: a live session (contract).
    let (Some(s), Some(sink), Some(f)) = (unsafe { s.as_mut() }, name(sink), f) else { return 1 };
    let sinks = s.sinks_of(sink);
    if s.run.is_some() || sinks.is_empty() {
        return 1;
    }
    let Ok(cname) = std::ffi::CString::new(sink) else { return 1 };
    if let Ok(mut v) = s.streams.sinks.lock() {
        for node in sinks {
            let name = cname.clone();
            let w: Box<dyn Write + Send> = Box::new(Callback { f, user: user as usize, name });
            v.push((node, w));
        }
    }
    0
}

/// Pushes `len` bytes at `bytes` to fed source `source` (pieces need not end at record
/// boundaries). Starts the run at the first push; waits while the run is behind. 0, or 1:
/// not a fed source, or the run has ended (its outcome comes from `kiln_session_finish`).
///
/// # Safety
/// `s` is a live session; `source` a C string; `bytes` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_session_push(
    s: *mut Session,
    source: *const c_char,
    bytes: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: a live session (contract).
    let (Some(s), Some(source)) = (unsafe { s.as_mut() }, name(source)) else { return 1 };
    let Some(i) = s.feeds.iter().position(|(n, _)| n == source) else { return 1 };
    s.start();
    if len == 0 {
        return 0;
    }
    // SAFETY: `len` readable bytes at `bytes` (contract); copied before returning.
    let piece = unsafe { std::slice::from_raw_parts(bytes, len) }.to_vec();
    i32::from(s.feeds[i].1.send(piece).is_err())
}

/// Ends every fed source, waits for the run and frees the session: the exit code the
/// executable would give (0 success, 1 a failed run, 2 bad usage).
///
/// # Safety
/// `s` is a session from `NAME_open`, not used again after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_session_finish(s: *mut Session) -> i32 {
    if s.is_null() {
        return 2;
    }
    // SAFETY: a session from `kiln_session_open`, given back once (contract).
    let mut s = unsafe { Box::from_raw(s) };
    s.start();
    s.feeds.clear();
    s.run.take().map_or(1, |t| t.join().unwrap_or(1))
}
