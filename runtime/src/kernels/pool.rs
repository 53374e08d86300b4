//! The second thread of agent libraries: one persistent worker, started lazily on the first
//! call that can use it, which takes part of a batch (`kiln_par_rows`) or half of a wide
//! layer's output panels for one row (`kiln_dense_row`). Compiled into the dispatcher object
//! only (one pool per process), with `core` and a few libc functions (`pthread_create`,
//! `sched_getaffinity`, `sched_yield`, `syscall` for the futex, `getenv`), all in glibc's
//! libc since 2.34, so a C program still links with `cc main.c libNAME.a -lm`.
//!
//! # Thread count
//! Read once: `KILN_THREADS=1` keeps everything on the calling thread, `2` (or more: one
//! worker is the most there is) allows the worker; unset or unreadable, 2 when the process
//! may run on at least 2 CPUs (`sched_getaffinity`), else 1. If the worker cannot be
//! started, everything stays on one thread.
//!
//! # Handoff
//! The caller writes the job into [`SLOT`] (one cache line with the state the worker
//! polls), marks it posted with a release store (no fence), and does its own half. The
//! worker spins on the state for a while after each job (about 100 µs) and then parks on a
//! futex. When its own half is done, the caller claims the worker's half itself if the
//! worker has not taken it (it was parked or descheduled), so a call is never slower than
//! one thread by more than the posting; else it spins until the worker is done. A parked
//! worker is woken when a caller sees it parked (before or after its own half), for the
//! calls that follow. One caller at a time owns the worker ([`OWNER`]); another
//! application thread calling meanwhile runs on its own thread alone.
//!
//! The protocol (the states, the orderings, parking) is model-checked with loom by
//! `runtime/tests/pool_model.rs`, a statement-for-statement model of `fork`, `claim` and
//! `worker`: change it with them.
//!
//! # Bits
//! Both halves run the same kernel code as one thread would: rows of a batch are
//! independent in the GEMM micro-kernel, and a GEMV always sums the inputs in two parts
//! cut at `gemv::split(k)` and adds them, whether one thread forms both parts or each
//! thread one, and each output panel the same way whichever thread computes it, so
//! results do not depend on the thread count.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_long, c_void};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::NR;
use super::gemv::split;
use super::pack::panels;

/// Processes `n` rows: `predict_batch` on one thread (generated code).
pub type RowsFn = unsafe extern "C" fn(x: *const f32, y: *mut f32, n: usize);

unsafe extern "C" {
    fn pthread_create(
        thread: *mut usize,
        attr: *const c_void,
        start: extern "C" fn(*mut c_void) -> *mut c_void,
        arg: *mut c_void,
    ) -> c_int;
    fn pthread_attr_init(attr: *mut c_void) -> c_int;
    fn pthread_attr_setstacksize(attr: *mut c_void, size: usize) -> c_int;
    fn pthread_attr_destroy(attr: *mut c_void) -> c_int;
    fn pthread_detach(thread: usize) -> c_int;
    fn sched_getaffinity(pid: c_int, size: usize, mask: *mut u64) -> c_int;
    fn sched_yield() -> c_int;
    fn syscall(num: c_long, ...) -> c_long;
}

#[cfg(target_arch = "x86_64")]
const SYS_FUTEX: c_long = 202;
#[cfg(target_arch = "aarch64")]
const SYS_FUTEX: c_long = 98;
const FUTEX_WAIT_PRIVATE: c_int = 128;
const FUTEX_WAKE_PRIVATE: c_int = 129;

/// Spins (`pause`) of the worker before it parks: about 100 µs.
const SPINS: u32 = 1 << 12;
/// Spins of a caller waiting for the worker before it starts yielding its core.
const WAIT_SPINS: u32 = 1 << 14;
/// Stack of the worker: the generated batch function keeps two 32 KiB buffers on it.
const WORKER_STACK: usize = 512 << 10;

const IDLE: u32 = 0;
const POSTED: u32 = 1;
const CLAIMED: u32 = 2;
const DONE: u32 = 3;

/// Set in the `act` of a job that goes on into the next layer ([`dense_row2`]): after its
/// output panels the worker sums the next layer over the outputs it just computed, into
/// [`PART`], whose header says which layer that is.
const FUSED: u32 = 1 << 31;
/// Outputs of a next layer (padded to whole panels) up to which [`dense_row2`] shares it.
const PART_MAX: usize = 1024;

/// The next layer of a fused job and the worker's sums of it: the header is written by the
/// owner before posting, the sums by whoever runs the job; the owner reads them once the
/// job is DONE.
#[repr(C, align(64))]
struct Part {
    /// The next layer's packed weights and outputs.
    next: UnsafeCell<(*const f32, usize)>,
    sums: UnsafeCell<Sums>,
    /// The calling thread's sums: static like the worker's (no stack buffer to clear on
    /// every call), used by the owner only.
    mine: UnsafeCell<Sums>,
}
#[repr(C, align(64))]
struct Sums([f32; PART_MAX]);
// SAFETY: only the holder of OWNER writes the header, before it posts (Release); between
// the post and DONE only the thread that claimed the job (Acquire) reads the header and
// writes the sums, and the owner reads the sums after DONE (Acquire, paired with the
// Release that set it).
unsafe impl Sync for Part {}
static PART: Part = Part {
    next: UnsafeCell::new((core::ptr::null(), 0)),
    sums: UnsafeCell::new(Sums([0.0; PART_MAX])),
    mine: UnsafeCell::new(Sums([0.0; PART_MAX])),
};

/// A value on its own cache line, so the flags the two threads spin on do not share one.
#[repr(align(64))]
struct Line<T>(T);

/// A job for the worker: rows `[.., n)` of `f` from `x` to `y` when `f` is set, else the
/// output panels `p0..p1` of one row (`kiln_gemv_panels`). Compact, so that with the state
/// it fills one cache line: the worker gets the job with the line it polls.
#[derive(Clone, Copy)]
#[repr(C)]
struct Job {
    f: Option<RowsFn>,
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    /// Rows for `f`, else the layer's inputs.
    n: u32,
    /// Outputs per row.
    m: u32,
    p0: u16,
    p1: u16,
    /// The activation code, or for `f` the inputs per row.
    act: u32,
}

/// The pieces of a batch: both threads take the next `piece` rows from `next` until none
/// are left, so a worker that is descheduled (or parked) holds up at most one piece.
#[repr(C, align(64))]
struct Pieces {
    next: AtomicUsize,
    piece: AtomicUsize,
}
static PIECES: Pieces = Pieces { next: AtomicUsize::new(0), piece: AtomicUsize::new(1) };

/// The handoff line: the state, the claimer's status and the job.
#[repr(C, align(64))]
struct Slot {
    state: AtomicU32,
    status: UnsafeCell<i32>,
    job: UnsafeCell<Job>,
}
// SAFETY: `job` is written by the owning caller only while `state` is IDLE, and read (and
// `status` written) by whoever claims it (POSTED -> CLAIMED with Acquire, which pairs with
// the Release that posted it) until DONE, after which only the owner reads `status`; see
// `fork`.
unsafe impl Sync for Slot {}

const NO_JOB: Job = Job {
    f: None,
    w: core::ptr::null(),
    b: core::ptr::null(),
    x: core::ptr::null(),
    y: core::ptr::null_mut(),
    n: 0,
    m: 0,
    p0: 0,
    p1: 0,
    act: 0,
};
const _: () = assert!(core::mem::size_of::<Slot>() == 64);
static SLOT: Slot =
    Slot { state: AtomicU32::new(IDLE), status: UnsafeCell::new(0), job: UnsafeCell::new(NO_JOB) };
/// The futex word the worker parks on: bumped by every wake.
static GEN: Line<AtomicU32> = Line(AtomicU32::new(0));
static PARKED: Line<AtomicBool> = Line(AtomicBool::new(false));
static OWNER: Line<AtomicBool> = Line(AtomicBool::new(false));
/// Jobs the worker ran (for tests and benchmarks); its own line, as the worker writes it.
static WORKER_JOBS: Line<AtomicU64> = Line(AtomicU64::new(0));
/// 0 until decided, then 1 or 2; [`INIT`] guards the decision.
static THREADS: AtomicU32 = AtomicU32::new(0);
static INIT: AtomicBool = AtomicBool::new(false);
static WORKER_STARTED: AtomicBool = AtomicBool::new(false);
/// Smallest layer (packed floats, `k * panels * NR`) whose panels one row splits.
static ROW_SPLIT_MIN: AtomicUsize = AtomicUsize::new(ROW_SPLIT_DEFAULT);
/// Measured on the 784-128-64-32-10 bench: the 784x128 layer (401 KB) gains, the 128x64
/// layer (32 KB, about 0.1 µs) loses to the handoff.
const ROW_SPLIT_DEFAULT: usize = 64 * 1024 / 4;

/// Threads the kernels use: 1 or 2 (decided on the first call, see the module docs).
#[unsafe(export_name = "kiln_threads")]
pub extern "C" fn threads() -> u32 {
    let t = THREADS.load(Ordering::Acquire);
    if t != 0 {
        return t;
    }
    if INIT.swap(true, Ordering::AcqRel) {
        return 1; // another thread is deciding: this call runs alone
    }
    let want = env_threads().unwrap_or_else(|| if cpus() >= 2 { 2 } else { 1 });
    let t = if want >= 2 && start_worker() { 2 } else { 1 };
    THREADS.store(t, Ordering::Release);
    t
}

/// Sets the thread count (1 or 2; other values are clamped) and returns the count in
/// effect: 1 if the worker cannot be started. For tests, benchmarks and the executable
/// driver (`resources.limits.cpu_cores`); results do not depend on it.
#[unsafe(export_name = "kiln_set_threads")]
pub extern "C" fn set_threads(n: u32) -> u32 {
    threads(); // settle the first decision so it does not overwrite this one
    let t = if n >= 2 && start_worker() { 2 } else { 1 };
    THREADS.store(t, Ordering::Release);
    t
}

/// Sets the smallest layer, in packed floats, whose output panels `kiln_dense_row` splits
/// between the threads (0 restores the default); returns the previous value. For tests.
#[unsafe(export_name = "kiln_set_row_split")]
pub extern "C" fn set_row_split(floats: usize) -> usize {
    let v = if floats == 0 { ROW_SPLIT_DEFAULT } else { floats };
    ROW_SPLIT_MIN.swap(v, Ordering::Relaxed)
}

/// How many jobs the worker has run since the process started.
#[unsafe(export_name = "kiln_worker_jobs")]
pub extern "C" fn worker_jobs() -> u64 {
    WORKER_JOBS.0.load(Ordering::Relaxed)
}

/// `KILN_THREADS` as a number, if set to one.
fn env_threads() -> Option<u32> {
    // SAFETY: the name is a NUL-terminated literal; getenv returns null or a C string that
    // is read only up to its NUL (at most 4 bytes).
    unsafe {
        let p = super::dispatch::getenv(c"KILN_THREADS".as_ptr());
        if p.is_null() {
            return None;
        }
        let mut v = 0u32;
        for i in 0..4 {
            match *p.add(i) as u8 {
                0 if i > 0 => return Some(v),
                d @ b'0'..=b'9' => v = v * 10 + (d - b'0') as u32,
                _ => return None,
            }
        }
        None
    }
}

/// CPUs this process may run on (1 if unknown).
fn cpus() -> u32 {
    let mut mask = [0u64; 16];
    // SAFETY: the mask is 128 writable bytes, the size passed; pid 0 is this thread.
    let r = unsafe { sched_getaffinity(0, core::mem::size_of_val(&mask), mask.as_mut_ptr()) };
    if r < 0 { 1 } else { mask.iter().map(|w| w.count_ones()).sum::<u32>().max(1) }
}

/// Starts the worker once; `false` if that failed (now or before).
fn start_worker() -> bool {
    static FAILED: AtomicBool = AtomicBool::new(false);
    static STARTING: AtomicBool = AtomicBool::new(false);
    if WORKER_STARTED.load(Ordering::Acquire) {
        return true;
    }
    if FAILED.load(Ordering::Acquire) || STARTING.swap(true, Ordering::AcqRel) {
        return false;
    }
    // pthread_attr_t: 56 bytes on x86-64 glibc, 64 on aarch64; this is more and aligned.
    let mut attr = [0u64; 16];
    let ap = attr.as_mut_ptr() as *mut c_void;
    let mut tid = 0usize;
    // SAFETY: `attr` is writable, large and aligned enough for pthread_attr_t and is
    // initialized before use and destroyed after; `worker` matches the start routine type
    // and never returns; the thread is detached, so nobody joins it.
    let ok = unsafe {
        let have_attr = pthread_attr_init(ap) == 0;
        if have_attr {
            pthread_attr_setstacksize(ap, WORKER_STACK);
        }
        let attr_ptr = if have_attr { ap as *const c_void } else { core::ptr::null() };
        let ok = pthread_create(&mut tid, attr_ptr, worker, core::ptr::null_mut()) == 0;
        if have_attr {
            pthread_attr_destroy(ap);
        }
        if ok {
            pthread_detach(tid);
        }
        ok
    };
    if ok {
        WORKER_STARTED.store(true, Ordering::Release);
    } else {
        FAILED.store(true, Ordering::Release);
    }
    STARTING.store(false, Ordering::Release);
    ok
}

fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT on a valid, aligned u32 that lives for the whole program, with no
    // timeout; the kernel only reads it. Returns at once if it no longer equals `expected`.
    unsafe {
        syscall(SYS_FUTEX, word.as_ptr(), FUTEX_WAIT_PRIVATE, expected, core::ptr::null::<u8>());
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE of at most one waiter on a valid, aligned u32 of this process.
    unsafe {
        syscall(SYS_FUTEX, word.as_ptr(), FUTEX_WAKE_PRIVATE, 1 as c_int);
    }
}

/// Runs a job (on the worker, or on the caller that claimed it back); returns its status.
fn run(job: &Job) -> i32 {
    match job.f {
        Some(f) => {
            let (n, k, m) = (job.n as usize, job.act as usize, job.m as usize);
            let piece = PIECES.piece.load(Ordering::Relaxed).max(1);
            loop {
                let i = PIECES.next.fetch_add(piece, Ordering::Relaxed);
                if i >= n {
                    return 0;
                }
                let r = piece.min(n - i);
                // SAFETY: the caller of kiln_par_rows guarantees `f` may process any range
                // of its rows; the counter hands each range [i, i + r) to one thread only.
                unsafe { f(job.x.wrapping_add(i * k), job.y.wrapping_add(i * m), r) };
            }
        }
        // SAFETY: kiln_dense_row2's caller guarantees the buffers: this job's panels write
        // the row's columns from `cut` on, which the calling thread neither writes nor
        // reads, and then only they are read, as the next layer's inputs from `cut`.
        None if job.act & FUSED != 0 => unsafe {
            let (k, m, act) = (job.n as usize, job.m as usize, job.act & !FUSED);
            let (p0, p1) = (job.p0 as usize, job.p1 as usize);
            let (w2, m2) = *PART.next.get();
            let sums = (*PART.sums.get()).0.as_mut_ptr();
            // Own the lines of the sums now, so the stores at the end need no transfer.
            for at in (0..panels(m2) * NR).step_by(16) {
                prefetch_write(sums.wrapping_add(at) as *const u8);
            }
            let r = super::dispatch::gemv_panels(job.w, job.b, job.x, job.y, k, m, p0, p1, act);
            let cut = p0 * NR;
            let xs = job.y.wrapping_add(cut) as *const f32;
            r | super::dispatch::gemv_sums(w2, xs, m, m2, cut, m, sums)
        },
        // SAFETY: kiln_dense_row's caller guarantees the buffers; the panel range is the
        // half the calling thread does not write.
        None => unsafe {
            super::dispatch::gemv_panels(
                job.w,
                job.b,
                job.x,
                job.y,
                job.n as usize,
                job.m as usize,
                job.p0 as usize,
                job.p1 as usize,
                job.act,
            )
        },
    }
}

/// Claims a posted job (POSTED -> CLAIMED); `true` if this thread got it.
fn claim() -> bool {
    SLOT.state.load(Ordering::Relaxed) == POSTED
        && SLOT
            .state
            .compare_exchange(POSTED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
}

fn wake() {
    GEN.0.fetch_add(1, Ordering::SeqCst);
    futex_wake(&GEN.0);
}

extern "C" fn worker(_: *mut c_void) -> *mut c_void {
    let mut spins = 0u32;
    loop {
        // A compare-exchange straight away (no load first): it fetches the line for
        // writing in one transfer when the caller has posted.
        let claimed =
            SLOT.state.compare_exchange(POSTED, CLAIMED, Ordering::Acquire, Ordering::Relaxed);
        if claimed.is_ok() {
            // SAFETY: the job is claimed: the caller wrote it before posting (Release, paired
            // with the Acquire of the claim) and does not touch it until DONE.
            let job = unsafe { *SLOT.job.get() };
            let status = run(&job);
            // SAFETY: as above; the status is ours to write until DONE.
            unsafe { *SLOT.status.get() = status };
            // Only this thread writes the count: a plain load and store, not a locked
            // add, which would wait for the status's line (the caller polls it) first.
            let jobs = WORKER_JOBS.0.load(Ordering::Relaxed);
            WORKER_JOBS.0.store(jobs + 1, Ordering::Relaxed);
            SLOT.state.store(DONE, Ordering::Release);
            if job.f.is_none() {
                warm(&job);
            }
            spins = 0;
            continue;
        }
        if spins < SPINS {
            spins += 1;
            core::hint::spin_loop();
            continue;
        }
        // Park. A caller that finds a job unclaimed runs it itself and then, seeing PARKED,
        // wakes us for the calls that follow; if we miss a post here, that call simply ran
        // on one thread. The futex returns at once if a wake bumped GEN after the load.
        PARKED.0.store(true, Ordering::SeqCst);
        let g = GEN.0.load(Ordering::SeqCst);
        if SLOT.state.load(Ordering::SeqCst) != POSTED {
            futex_wait(&GEN.0, g);
        }
        PARKED.0.store(false, Ordering::SeqCst);
        spins = 0;
    }
}

/// Rows of a row job's first panels that the worker brings back into L1 after the job.
const WARM_ROWS: usize = 128;

/// Brings the first [`WARM_ROWS`] rows of the job's first two output panels (32 KiB with
/// 32-column panels) into L1 once the job is done: the weights a repeat of the job (the
/// next row through the same layer) streams first. The job's own stream evicted them, and
/// the worker is idle now, so the next call starts its part from L1 for that much, which
/// offsets some of the handoff it waits for. Only prefetches, of raw addresses: the
/// weights may be gone by now (a caller of `kiln_dense_row` may free them once it returns),
/// and a prefetch of any address is harmless.
fn warm(job: &Job) {
    let (k, p0, p1) = (job.n as usize, job.p0 as usize, job.p1 as usize);
    let bytes = k.min(WARM_ROWS) * NR * 4;
    for p in p0..p1.min(p0 + 2) {
        let panel = job.w.wrapping_add(p * k * NR) as *const u8;
        for at in (0..bytes).step_by(64) {
            prefetch_at(panel.wrapping_add(at));
        }
    }
}

/// Takes the worker for one call, if two threads are in use and no other caller has it.
fn acquire() -> bool {
    threads() == 2
        && OWNER.0.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// Posts `job` to the worker, runs `mine` here, then finishes the job (claiming it back if
/// the worker has not started it). Returns the statuses of `mine` and of the job. The
/// caller holds the worker ([`acquire`]).
///
/// The fast path has no fence: the post is a release store that drains while `mine` runs,
/// and the end is a load of the state (a compare-exchange only if the job is unclaimed).
fn fork(job: Job, mine: impl FnOnce() -> i32, next: &[u8]) -> (i32, i32) {
    // SAFETY: the state is IDLE (the previous owner finished its job before releasing
    // OWNER, which we acquired), so nobody reads the job now.
    unsafe { *SLOT.job.get() = job };
    SLOT.state.store(POSTED, Ordering::Release);
    let parked = PARKED.0.load(Ordering::Relaxed);
    if parked {
        wake();
    }
    let a = mine();
    let b = if claim() {
        // The worker is parked or busy elsewhere: do its part here, and make sure it is
        // awake for the next calls (the claim is a full barrier, so PARKED is current).
        // SAFETY: claimed, so the job is ours to read.
        let r = run(unsafe { &*SLOT.job.get() });
        if !parked && PARKED.0.load(Ordering::Relaxed) {
            wake();
        }
        r
    } else {
        let mut spins = 0u32;
        let mut lines = next.chunks(64);
        while SLOT.state.load(Ordering::Acquire) != DONE {
            // Waiting for the worker is the time to bring the next layer into L1.
            if let Some(line) = lines.next() {
                prefetch(line);
            } else if spins < WAIT_SPINS {
                spins += 1;
                core::hint::spin_loop();
            } else {
                // SAFETY: no arguments; lets a descheduled worker run on this core.
                unsafe { sched_yield() };
            }
        }
        // SAFETY: DONE (Acquire) pairs with the worker's Release: it wrote the status and
        // no longer touches the slot.
        unsafe { *SLOT.status.get() }
    };
    SLOT.state.store(IDLE, Ordering::Relaxed);
    OWNER.0.store(false, Ordering::Release);
    (a, b)
}

/// Asks for the cache line at `p` in L1, owned for writing (`prefetchw`; a no-op on
/// x86-64 CPUs without it, where the encoding is a NOP).
#[inline(always)]
fn prefetch_write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, writes nothing and has no visible effect.
    unsafe {
        core::arch::asm!("prefetchw [{0}]", in(reg) p, options(nostack, preserves_flags, readonly))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for the cache line of `line` in L1.
#[inline(always)]
fn prefetch(line: &[u8]) {
    prefetch_at(line.as_ptr());
}

/// Asks for the cache line at `p` in L1 (any address: a prefetch is only a hint).
#[inline(always)]
fn prefetch_at(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, even for an unmapped address, and has no visible
    // effect.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Rows per piece of a batch: about an eighth of it (a multiple of 24 rows once that is
/// more than 24: whole row blocks of the GEMM micro-kernel at every level, 8 rows with
/// AVX-512 and 6 with AVX2), and at least `min_rows`.
fn piece_rows(n: usize, min_rows: usize) -> usize {
    let g = n.div_ceil(8).max(min_rows).max(1);
    if g > 24 { (g / 24).max(min_rows.div_ceil(24)) * 24 } else { g }
}

/// Runs `f` over `n` rows of `k` inputs (`x`) and `m` outputs (`y`): in pieces of about
/// `n / 8` rows (at least `min_rows`) that this thread and the worker take in turn, when
/// two threads are in use and there are at least `2 * min_rows` rows. `f` must give every row the same result however the rows are cut
/// (generated `predict_batch` bodies do: they use `kiln_dense_gemm`).
///
/// # Safety
/// `f(x', y', r)` must be sound for every sub-range of the rows, from any thread; `x`
/// holds `n * k` values and `y` `n * m`, not overlapping.
#[unsafe(export_name = "kiln_par_rows")]
pub unsafe extern "C" fn par_rows(
    f: RowsFn,
    x: *const f32,
    y: *mut f32,
    n: usize,
    k: usize,
    m: usize,
    min_rows: usize,
) {
    let fits = n <= u32::MAX as usize && k <= u32::MAX as usize && m <= u32::MAX as usize;
    if n >= min_rows.max(1).saturating_mul(2) && fits && acquire() {
        // Owning the worker, and the previous job done: nobody reads the counter now.
        PIECES.piece.store(piece_rows(n, min_rows), Ordering::Relaxed);
        PIECES.next.store(0, Ordering::Relaxed);
        let (n, m, act) = (n as u32, m as u32, k as u32);
        let job = Job { f: Some(f), x, y, n, m, act, ..NO_JOB };
        // Both threads take pieces (the post publishes the counter's reset).
        fork(job, || run(&job), &[]);
    } else {
        // SAFETY: the caller's guarantees for f, all rows.
        unsafe { f(x, y, n) }
    }
}

/// One row through a dense layer, as `kiln_dense` with `n = 1` (same bits), but a layer of
/// at least `kiln_set_row_split` packed floats (64 KiB by default) with two or more output
/// panels is split: the first half of the panels here, the rest on the worker, then the
/// softmax (if wider than one panel) here. While it waits for the worker, the calling thread
/// prefetches `next_bytes` bytes at `next` (the following layer's packed weights and bias;
/// null for none) into L1. Returns 0 or -1 as `kiln_dense`.
///
/// # Safety
/// As `kiln_dense` with `n = 1`; `next` is null or points to `next_bytes` readable bytes.
#[unsafe(export_name = "kiln_dense_row")]
pub unsafe extern "C" fn dense_row(
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    k: usize,
    m: usize,
    act: u32,
    next: *const u8,
    next_bytes: usize,
) -> i32 {
    let p = panels(m);
    let size = k.saturating_mul(p).saturating_mul(NR);
    let fits = k <= u32::MAX as usize && m <= u32::MAX as usize && p <= u16::MAX as usize;
    if p >= 2 && fits && size >= ROW_SPLIT_MIN.load(Ordering::Relaxed) && acquire() {
        let next = prefetch_span(next, next_bytes);
        let h = p / 2;
        let (n, m32, p0, p1) = (k as u32, m as u32, h as u16, p as u16);
        let job = Job { f: None, w, b, x, y, n, m: m32, p0, p1, act };
        // SAFETY: panels [0, h) here and [h, p) on the worker write disjoint columns of the
        // row; the other buffers are only read; lengths as the caller guarantees.
        let mine = || unsafe { super::dispatch::gemv_panels(w, b, x, y, k, m, 0, h, act) };
        let (r0, r1) = fork(job, mine, next);
        if r0 != 0 || r1 != 0 {
            return -1;
        }
        if act == super::Act::Softmax as u32 && m > NR {
            // SAFETY: y holds m values, now all written; in place is allowed.
            return unsafe { super::dispatch::vmap(act, y, y, m) };
        }
        0
    } else {
        // The whole row here: `kiln_gemv_panels` over every panel, and the softmax of a row
        // wider than one panel after it, is what `kiln_dense` does for one row (same bits,
        // and -1 for the same bad arguments, `m = 0` included), without its checks and
        // steps for a batch (a third of a small layer's time).
        // SAFETY: the caller's guarantees, passed through; y holds m values.
        let r = unsafe { super::dispatch::gemv_panels(w, b, x, y, k, m, 0, p, act) };
        if r == 0 && act == super::Act::Softmax as u32 && m > NR {
            // SAFETY: y holds m values, now all written; in place is allowed.
            return unsafe { super::dispatch::vmap(act, y, y, m) };
        }
        r
    }
}

/// The `bytes` bytes at `p` as a slice to prefetch (empty for null or an impossible size).
fn prefetch_span<'a>(p: *const u8, bytes: usize) -> &'a [u8] {
    if p.is_null() || bytes > isize::MAX as usize {
        &[]
    } else {
        // SAFETY: the callers guarantee `bytes` readable bytes at a non-null `p`; the
        // slice is only prefetched.
        unsafe { core::slice::from_raw_parts(p, bytes) }
    }
}

/// Two layers for one row: `kiln_dense_row` for the first (`w`, `b`, `k` inputs, `m`
/// outputs into `y`) and then for the second (`w2`, `b2`, `m2` outputs into `y2`), with the
/// bits of those two calls. When the first layer is split between the threads (see
/// `kiln_dense_row`), the second is shared too: each thread goes on to sum the second layer
/// over the first layer's outputs it computed itself (the inputs are cut where the panels
/// are, `gemv::split(m)`), and this thread adds the two parts and applies the bias and the
/// activation. The worker's outputs then never cross to this thread, and half of the
/// second layer overlaps with the worker's wait. Returns 0 or -1 as `kiln_dense`.
///
/// # Safety
/// As `kiln_dense_row` for each layer: `y` holds `m` values, `y2` holds `m2`, `w2` and
/// `b2` are the second layer's packed weights and bias for `m` inputs and `m2` outputs, and
/// no buffer written overlaps another buffer.
#[unsafe(export_name = "kiln_dense_row2")]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dense_row2(
    w: *const f32,
    b: *const f32,
    x: *const f32,
    y: *mut f32,
    k: usize,
    m: usize,
    act: u32,
    w2: *const f32,
    b2: *const f32,
    y2: *mut f32,
    m2: usize,
    act2: u32,
    next: *const u8,
    next_bytes: usize,
) -> i32 {
    let p = panels(m);
    let (h, cut) = (p / 2, split(m));
    let size = k.saturating_mul(p).saturating_mul(NR);
    let fits = k <= u32::MAX as usize && m <= u32::MAX as usize && p <= u16::MAX as usize;
    // A softmax over the first layer needs all of its outputs before any are used.
    let shared = p >= 2
        && cut == h * NR
        && panels(m2) * NR <= PART_MAX
        && act < FUSED
        && !(act == super::Act::Softmax as u32 && m > NR);
    if shared && fits && size >= ROW_SPLIT_MIN.load(Ordering::Relaxed) && acquire() {
        let next = prefetch_span(next, next_bytes);
        let (n, m32, p0, p1) = (k as u32, m as u32, h as u16, p as u16);
        let job = Job { f: None, w, b, x, y, n, m: m32, p0, p1, act: act | FUSED };
        // SAFETY: we own the worker and nothing is posted, so nobody reads the header.
        // Written only when it changes: the worker holds a copy of the line from the last
        // job, and a store would first have to take that copy away, holding up the post
        // (stores become visible in order) by one more transfer between the cores.
        unsafe {
            if *PART.next.get() != (w2, m2) {
                *PART.next.get() = (w2, m2);
            }
        }
        // SAFETY: only the owner of the worker uses `mine`, and we own it.
        let own = unsafe { (*PART.mine.get()).0.as_mut_ptr() };
        // SAFETY: panels [0, h) write the columns [0, cut) of y, which the worker does not
        // touch, and only those are read as the second layer's inputs; `own` holds
        // PART_MAX >= panels(m2) * NR values; the rest as the caller guarantees.
        let mine = || unsafe {
            super::dispatch::gemv_panels(w, b, x, y, k, m, 0, h, act)
                | super::dispatch::gemv_sums(w2, y, m, m2, 0, cut, own)
        };
        let (r0, r1) = fork(job, mine, next);
        if r0 != 0 || r1 != 0 {
            return -1;
        }
        // SAFETY: the job is DONE and we own the worker, so nobody writes PART's sums;
        // b2 holds panels(m2) * NR values and y2 m2, as the caller guarantees.
        unsafe {
            let theirs = (*PART.sums.get()).0.as_ptr();
            super::dispatch::gemv_finish(own, theirs, b2, y2, m2, act2)
        }
    } else {
        // SAFETY: the caller's guarantees, passed through for each layer.
        unsafe {
            let ahead = panels(m2).saturating_mul(m).saturating_mul(NR * 4);
            let r = dense_row(w, b, x, y, k, m, act, w2 as *const u8, ahead);
            if r != 0 {
                return r;
            }
            dense_row(w2, b2, y, y2, m, m2, act2, next, next_bytes)
        }
    }
}
