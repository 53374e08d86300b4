//! `kiln_agent_main`: the read–predict–write loop of an agent executable, on libc alone
//! (`read`, `write`, `malloc`/`realloc`/`free`, `setrlimit`). Output goes through an
//! explicit buffer that is flushed before every message and at exit: nothing depends on a
//! language runtime's exit handlers, which a Cranelift-generated `main` never runs.

use super::rows::{is_blank, parse_row, write_row};
use core::fmt::{self, Write};

unsafe extern "C" {
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    fn malloc(n: usize) -> *mut u8;
    fn realloc(p: *mut u8, n: usize) -> *mut u8;
    fn free(p: *mut u8);
    #[cfg(target_os = "linux")]
    fn setrlimit(resource: i32, limit: *const [u64; 2]) -> i32;
    /// The kernels' thread count (`kernels/pool.rs`, in the dispatcher kernel object).
    #[cfg(target_os = "linux")]
    fn kiln_set_threads(n: u32) -> u32;
    fn sysconf(name: i32) -> i64;
    #[cfg(target_os = "linux")]
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u8) -> i32;
}

/// `sysconf` names (Linux).
const SC_PAGESIZE: i32 = 30;
const SC_PHYS_PAGES: i32 = 85;
const SC_NPROCESSORS_ONLN: i32 = 84;

/// The machine's memory in MB, and the cores this process may run on.
fn machine() -> (u64, u64) {
    // SAFETY: sysconf only reads its argument.
    let (page, pages) = unsafe { (sysconf(SC_PAGESIZE), sysconf(SC_PHYS_PAGES)) };
    let mb = (page.max(0) as u64).saturating_mul(pages.max(0) as u64) >> 20;
    #[cfg(target_os = "linux")]
    {
        let mut mask = [0u8; 128];
        // SAFETY: the mask is 128 writable bytes, the size passed.
        if unsafe { sched_getaffinity(0, mask.len(), mask.as_mut_ptr()) } == 0 {
            let n: u32 = mask.iter().map(|b| b.count_ones()).sum();
            return (mb, u64::from(n.max(1)));
        }
    }
    // SAFETY: as above.
    (mb, unsafe { sysconf(SC_NPROCESSORS_ONLN) }.max(1) as u64)
}

/// `<name>_predict_batch`.
pub type PredictBatch = unsafe extern "C" fn(*const f32, *mut f32, usize);

/// Bytes of the output buffer.
const OUT_CAP: usize = 1 << 16;
/// Floats of input held for one `predict_batch` call (rows × input size).
const BATCH_FLOATS: usize = 1 << 16;

/// Runs the agent over standard input. `memory_mb` > 0 caps the address space (Linux);
/// `cpu_cores` = 1 keeps the kernels on one thread (they use at most two, see
/// `kernels/pool.rs`, so any other value is met). `min_memory_mb` and `min_cpu_millis`
/// (thousandths of a core) are the agent's `resources.requirements`, 0 for none: a machine
/// below them is refused before anything is read. Returns the exit code: 0, 1 for a bad
/// line, a read or write error, the memory limit or a machine below the requirements, 2
/// for arguments.
///
/// # Safety
/// `predict` reads `n * n_in` floats and writes `n * n_out`; `argv` holds `argc` C strings.
#[unsafe(export_name = "kiln_agent_main")]
pub unsafe extern "C" fn agent_main(
    predict: PredictBatch,
    n_in: usize,
    n_out: usize,
    memory_mb: u64,
    cpu_cores: u64,
    min_memory_mb: u64,
    min_cpu_millis: u64,
    argc: i32,
    _argv: *const *const u8,
) -> i32 {
    let mut out = Out { buf: [0; OUT_CAP], len: 0, failed: false };
    if argc > 1 {
        let _ = writeln!(
            out.err(),
            "usage: this program reads JSONL rows on standard input (arrays of {n_in} numbers, or objects with an array `x`) and writes one JSON array of {n_out} outputs per row"
        );
        return 2;
    }
    let (have_mb, have_cores) = machine();
    if min_memory_mb > have_mb {
        let _ = writeln!(
            out.err(),
            "error: this agent requires at least {min_memory_mb} MB of memory (resources.requirements.minimum_memory_mb); this machine has {have_mb} MB"
        );
        return 1;
    }
    if min_cpu_millis > have_cores.saturating_mul(1000) {
        let (whole, frac) = (min_cpu_millis / 1000, min_cpu_millis % 1000);
        let _ = if frac == 0 {
            writeln!(
                out.err(),
                "error: this agent requires at least {whole} cores (resources.requirements.minimum_cpu_cores); this process may use {have_cores}"
            )
        } else {
            writeln!(
                out.err(),
                "error: this agent requires at least {whole}.{frac:03} cores (resources.requirements.minimum_cpu_cores); this process may use {have_cores}"
            )
        };
        return 1;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu_cores;
    #[cfg(target_os = "linux")]
    if cpu_cores == 1 {
        // SAFETY: no pointers; only sets the kernels' thread count.
        unsafe { kiln_set_threads(1) };
    }
    #[cfg(target_os = "linux")]
    if memory_mb > 0 {
        let bytes = memory_mb.saturating_mul(1 << 20);
        // SAFETY: RLIMIT_AS (9) with a valid {soft, hard} pair; lowering both is always
        // permitted, and the call only reads the pair.
        if unsafe { setrlimit(9, &[bytes, bytes]) } != 0 {
            let _ = writeln!(out.err(), "error: cannot set the memory limit of {memory_mb} MB");
            return 1;
        }
    }
    let rows = (BATCH_FLOATS / n_in.max(1)).clamp(1, 256);
    // SAFETY: plain allocations, checked for null below and freed at the end.
    let (x, y) = unsafe { (alloc_f32(rows * n_in), alloc_f32(rows * n_out)) };
    let code = if x.is_null() || y.is_null() {
        oom(&mut out, memory_mb)
    } else {
        // SAFETY: x and y hold rows*n_in and rows*n_out floats.
        let io = unsafe { Batch::new(x, y, rows, n_in, n_out) };
        run(io, predict, &mut out, memory_mb)
    };
    // SAFETY: both came from malloc (or are null, which free accepts).
    unsafe {
        free(x as *mut u8);
        free(y as *mut u8);
    }
    code
}

/// # Safety
/// None beyond malloc's: the result may be null.
unsafe fn alloc_f32(n: usize) -> *mut f32 {
    // SAFETY: malloc of a non-zero size; null on failure.
    unsafe { malloc(n.max(1) * 4) as *mut f32 }
}

/// The input and output rows of one `predict_batch` call.
struct Batch<'a> {
    x: &'a mut [f32],
    y: &'a mut [f32],
    rows: usize,
    n_in: usize,
    n_out: usize,
    filled: usize,
}

impl Batch<'_> {
    /// # Safety
    /// `x` and `y` point to `rows * n_in` and `rows * n_out` floats, used by nothing else.
    unsafe fn new(x: *mut f32, y: *mut f32, rows: usize, n_in: usize, n_out: usize) -> Self {
        // SAFETY: as the caller guarantees.
        let (x, y) = unsafe {
            (
                core::slice::from_raw_parts_mut(x, rows * n_in),
                core::slice::from_raw_parts_mut(y, rows * n_out),
            )
        };
        Batch { x, y, rows, n_in, n_out, filled: 0 }
    }

    /// Runs the filled rows and writes their outputs.
    fn flush(&mut self, predict: PredictBatch, out: &mut Out) {
        if self.filled == 0 {
            return;
        }
        // SAFETY: x holds filled*n_in floats, y room for filled*n_out.
        unsafe { predict(self.x.as_ptr(), self.y.as_mut_ptr(), self.filled) };
        for r in 0..self.filled {
            let _ = write_row(out, &self.y[r * self.n_out..(r + 1) * self.n_out]);
        }
        self.filled = 0;
    }
}

fn run(mut batch: Batch<'_>, predict: PredictBatch, out: &mut Out, memory_mb: u64) -> i32 {
    let mut lines = match Lines::new() {
        Some(l) => l,
        None => return oom(out, memory_mb),
    };
    let mut number = 0usize;
    loop {
        let line = match lines.next() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(LineError::Read) => {
                batch.flush(predict, out);
                let _ = writeln!(out.err(), "error: reading standard input failed");
                return 1;
            }
            Err(LineError::Memory) => {
                batch.flush(predict, out);
                return oom(out, memory_mb);
            }
        };
        number += 1;
        if is_blank(line) {
            continue;
        }
        let (at, n_in) = (batch.filled * batch.n_in, batch.n_in);
        if let Err(e) = parse_row(line, &mut batch.x[at..at + n_in]) {
            batch.flush(predict, out);
            let _ = writeln!(out.err(), "error: line {number}: {e}");
            return 1;
        }
        batch.filled += 1;
        if batch.filled == batch.rows {
            batch.flush(predict, out);
        }
    }
    batch.flush(predict, out);
    out.flush();
    if out.failed {
        let _ = writeln!(out.err(), "error: writing standard output failed");
        return 1;
    }
    0
}

fn oom(out: &mut Out, memory_mb: u64) -> i32 {
    if memory_mb > 0 {
        let _ = writeln!(
            out.err(),
            "error: out of memory: the agent's limit is {memory_mb} MB (resources.limits.memory_mb)"
        );
    } else {
        let _ = writeln!(out.err(), "error: out of memory");
    }
    1
}

/// Buffered standard output.
struct Out {
    buf: [u8; OUT_CAP],
    len: usize,
    failed: bool,
}

impl Out {
    fn flush(&mut self) {
        if !write_all(1, &self.buf[..self.len]) {
            self.failed = true;
        }
        self.len = 0;
    }

    /// Flushes standard output, then gives a writer for standard error.
    fn err(&mut self) -> Stderr {
        self.flush();
        Stderr
    }
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let b = s.as_bytes();
        if self.len + b.len() > OUT_CAP {
            self.flush();
        }
        if b.len() > OUT_CAP {
            if !write_all(1, b) {
                self.failed = true;
            }
            return Ok(());
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        Ok(())
    }
}

/// Unbuffered standard error.
struct Stderr;

impl Write for Stderr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if write_all(2, s.as_bytes()) { Ok(()) } else { Err(fmt::Error) }
    }
}

fn write_all(fd: i32, mut b: &[u8]) -> bool {
    while !b.is_empty() {
        // SAFETY: `b` is a valid readable buffer of b.len() bytes.
        let n = unsafe { write(fd, b.as_ptr(), b.len()) };
        if n <= 0 {
            return false;
        }
        b = &b[(n as usize).min(b.len())..];
    }
    true
}

enum LineError {
    Read,
    Memory,
}

/// Lines of standard input in a growable buffer (a line may be any length).
struct Lines {
    buf: *mut u8,
    cap: usize,
    /// Bytes `start..end` are read and not yet returned.
    start: usize,
    end: usize,
    eof: bool,
}

impl Lines {
    fn new() -> Option<Lines> {
        let cap = 1 << 16;
        // SAFETY: a plain allocation, checked for null.
        let buf = unsafe { malloc(cap) };
        (!buf.is_null()).then_some(Lines { buf, cap, start: 0, end: 0, eof: false })
    }

    /// The next line without its `\n`, or `None` at the end of the input.
    fn next(&mut self) -> Result<Option<&[u8]>, LineError> {
        let mut scanned = self.start;
        let (from, to) = loop {
            // SAFETY: buf holds cap bytes, of which 0..end are initialized.
            let data = unsafe { core::slice::from_raw_parts(self.buf, self.end) };
            if let Some(i) = data[scanned..].iter().position(|b| *b == b'\n') {
                let line = (self.start, scanned + i);
                self.start = scanned + i + 1;
                break line;
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let line = (self.start, self.end);
                self.start = self.end;
                break line;
            }
            let scanned_all = self.end;
            scanned = scanned_all - self.fill()?;
        };
        // SAFETY: as above; from..to lies within the initialized bytes.
        Ok(Some(unsafe { core::slice::from_raw_parts(self.buf.add(from), to - from) }))
    }

    /// Moves the pending bytes to the front, grows the buffer when they fill it, and reads
    /// more. Returns how far the bytes moved.
    fn fill(&mut self) -> Result<usize, LineError> {
        let shift = self.start;
        if shift > 0 {
            // SAFETY: both ranges lie inside the buffer; `copy` allows overlap.
            unsafe { core::ptr::copy(self.buf.add(shift), self.buf, self.end - shift) };
            self.start = 0;
            self.end -= shift;
        }
        if self.end == self.cap {
            let cap = self.cap.checked_mul(2).ok_or(LineError::Memory)?;
            // SAFETY: buf came from malloc/realloc; on failure it stays valid (and owned).
            let grown = unsafe { realloc(self.buf, cap) };
            if grown.is_null() {
                return Err(LineError::Memory);
            }
            self.buf = grown;
            self.cap = cap;
        }
        // SAFETY: end..cap is allocated and writable.
        let n = unsafe { read(0, self.buf.add(self.end), self.cap - self.end) };
        match n {
            0 => self.eof = true,
            n if n > 0 => self.end += n as usize,
            _ => return Err(LineError::Read),
        }
        Ok(shift)
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        // SAFETY: buf came from malloc/realloc and is freed once.
        unsafe { free(self.buf) }
    }
}
