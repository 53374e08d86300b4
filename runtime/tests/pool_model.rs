//! A model of the kernel worker's handoff (`runtime/src/kernels/pool.rs`), checked by loom
//! over every interleaving (and every weak-memory outcome loom models) of one caller and
//! the worker, for two calls in a row: the second call finds the worker spinning, parked,
//! or still finishing the first.
//!
//! The model keeps pool.rs's protocol and memory orderings, statement for statement:
//! OWNER taken and released, the job written then POSTED with a release store, PARKED read
//! relaxed after the post, the claim (POSTED -> CLAIMED, acquire) by whichever thread gets
//! there first, DONE with a release store, the worker parking with PARKED/GEN (SeqCst) and
//! the futex. Spin loops are cut short (loom explores each iteration), and the futex is a
//! mutex and condition variable with the futex's semantics (the waiter sleeps only if the
//! word still holds the value it read; a wake bumps the word first). When pool.rs changes
//! its protocol or an ordering, change this model with it.
//!
//! Checked: every call ends (no lost wake-up leaves the caller waiting), each job runs
//! exactly once, its data and status are never accessed by two threads at once (loom's
//! `UnsafeCell` tracks that), and the caller reads the status the runner wrote.
//!
//! Run: `cargo test --release -p kiln_runtime --test pool_model` (a few seconds);
//! `LOOM_MAX_PREEMPTIONS` bounds the search (4 by default here; 5 takes about a second).

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use loom::sync::{Arc, Condvar, Mutex};

const IDLE: u32 = 0;
const POSTED: u32 = 1;
const CLAIMED: u32 = 2;
const DONE: u32 = 3;
/// The worker's spins before it parks (pool.rs: `SPINS`, about 100 µs).
const SPINS: u32 = 2;

struct Pool {
    state: AtomicU32,
    /// The job: a number the runner adds into `runs`, and its status.
    job: UnsafeCell<u32>,
    status: UnsafeCell<i32>,
    runs: UnsafeCell<u32>,
    generation: AtomicU32,
    parked: AtomicBool,
    owner: AtomicBool,
    stop: AtomicBool,
    futex: (Mutex<()>, Condvar),
}

impl Pool {
    fn new() -> Pool {
        Pool {
            state: AtomicU32::new(IDLE),
            job: UnsafeCell::new(0),
            status: UnsafeCell::new(0),
            runs: UnsafeCell::new(0),
            generation: AtomicU32::new(0),
            parked: AtomicBool::new(false),
            owner: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            futex: (Mutex::new(()), Condvar::new()),
        }
    }

    /// `futex_wait(GEN, expected)`: sleeps unless the word changed.
    fn futex_wait(&self, expected: u32) {
        let guard = self.futex.0.lock().unwrap();
        if self.generation.load(Ordering::SeqCst) == expected {
            drop(self.futex.1.wait(guard).unwrap());
        }
    }

    /// pool.rs `wake`: bump the word, then wake one waiter.
    fn wake(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _guard = self.futex.0.lock().unwrap();
        self.futex.1.notify_one();
    }

    /// pool.rs `run`: the job, by whichever thread claimed it.
    fn run(&self) -> i32 {
        // SAFETY: loom's cell hands out a valid pointer; the claim makes this thread the
        // only one touching the job until DONE (what loom checks).
        let job = self.job.with(|j| unsafe { *j });
        // SAFETY: as for the job: the claim makes this thread the only one touching the
        // count until DONE.
        self.runs.with_mut(|r| unsafe { *r += job });
        job as i32 * 10
    }

    /// pool.rs `claim`.
    fn claim(&self) -> bool {
        self.state.load(Ordering::Relaxed) == POSTED
            && self
                .state
                .compare_exchange(POSTED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// pool.rs `acquire` and `fork`, with `mine` empty; returns the job's status.
    fn call(&self, job: u32) -> i32 {
        while self
            .owner
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            loom::thread::yield_now();
        }
        // SAFETY: a valid pointer from loom; the state is IDLE, so nobody else reads it.
        self.job.with_mut(|j| unsafe { *j = job });
        self.state.store(POSTED, Ordering::Release);
        let parked = self.parked.load(Ordering::Relaxed);
        if parked {
            self.wake();
        }
        let status = if self.claim() {
            let r = self.run();
            if !parked && self.parked.load(Ordering::Relaxed) {
                self.wake();
            }
            r
        } else {
            while self.state.load(Ordering::Acquire) != DONE {
                loom::thread::yield_now();
            }
            // SAFETY: a valid pointer; DONE (acquire) orders the runner's write before.
            self.status.with(|s| unsafe { *s })
        };
        self.state.store(IDLE, Ordering::Relaxed);
        self.owner.store(false, Ordering::Release);
        status
    }

    /// pool.rs `worker`, until `stop`.
    fn worker(&self) {
        let mut spins = 0;
        while !self.stop.load(Ordering::Acquire) {
            let claimed =
                self.state.compare_exchange(POSTED, CLAIMED, Ordering::Acquire, Ordering::Relaxed);
            if claimed.is_ok() {
                let status = self.run();
                // SAFETY: a valid pointer; claimed, so the status is ours until DONE.
                self.status.with_mut(|s| unsafe { *s = status });
                self.state.store(DONE, Ordering::Release);
                spins = 0;
                continue;
            }
            if spins < SPINS {
                spins += 1;
                loom::thread::yield_now();
                continue;
            }
            self.parked.store(true, Ordering::SeqCst);
            let g = self.generation.load(Ordering::SeqCst);
            if self.state.load(Ordering::SeqCst) != POSTED && !self.stop.load(Ordering::SeqCst) {
                self.futex_wait(g);
            }
            self.parked.store(false, Ordering::SeqCst);
            spins = 0;
        }
    }
}

#[test]
fn every_call_ends_and_each_job_runs_once() {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(4);
    }
    builder.check(|| {
        let pool = Arc::new(Pool::new());
        let w = pool.clone();
        let worker = loom::thread::spawn(move || w.worker());
        assert_eq!(pool.call(1), 10);
        assert_eq!(pool.call(2), 20);
        // Both jobs ran, once each, before their calls returned.
        // SAFETY: a valid pointer; both calls returned, after each job's run.
        assert_eq!(pool.runs.with(|r| unsafe { *r }), 3);
        pool.stop.store(true, Ordering::SeqCst);
        pool.wake();
        worker.join().unwrap();
    });
}
