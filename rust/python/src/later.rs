//! Work done on a thread of bm25x's own that never takes the GIL: a [`Worker`] runs jobs, one
//! after another in the order they were submitted, and each submission returns a [`Pending`]
//! at once, whose `result()` the caller takes when it needs it.
//!
//! Why not a Python thread: a Python thread needs the GIL to start each job and to hand back
//! its result, and the threads that need the GIL most then wait for it. The `bm25x` command's
//! ingest over REST (its sender threads and the reading thread all take the GIL) ran 160,000-
//! 170,000 documents a second with this worker against 142,000-144,000 with a Python one
//! (benches/README.md, issue 24). A job here holds only Rust data (its inputs are copied in
//! when it is submitted, with the GIL) and returns a Rust value, which becomes Python objects
//! only in `result()`, in the caller's thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::{guard, panicked, InternalError, ThreadStartError};

/// A job's outcome, turned into a Python object with the GIL.
type Ready = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;
type Job = Box<dyn FnOnce() + Send>;

/// How long `Pending.result()` waits without the GIL between two looks at Python's signal
/// handlers (so that Ctrl-C stops a wait promptly).
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Strings copied out of Python objects into one buffer, so that a job owns its inputs: the
/// caller may drop or change its lists while the job runs.
pub struct Texts {
    all: String,
    ends: Vec<usize>,
}

impl Texts {
    /// A copy of `texts`.
    pub fn copy(texts: &[&str]) -> Self {
        let mut all = String::with_capacity(texts.iter().map(|t| t.len()).sum());
        let mut ends = Vec::with_capacity(texts.len());
        for t in texts {
            all.push_str(t);
            ends.push(all.len());
        }
        Texts { all, ends }
    }

    /// The strings, in order.
    pub fn slices(&self) -> Vec<&str> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let s = &self.all[start..end];
                start = end;
                s
            })
            .collect()
    }
}

/// The thread a [`Worker`] sends its jobs to, and the process that started it.
struct Line {
    pid: u32,
    jobs: Sender<Job>,
}

/// One thread running jobs in the order they were submitted, started on the first job. It
/// exits once the worker is dropped and its last job is done.
#[pyclass(frozen, module = "bm25x._native")]
pub struct Worker {
    line: Mutex<Option<Line>>,
}

#[pymethods]
impl Worker {
    #[new]
    fn new() -> Self {
        Worker {
            line: Mutex::new(None),
        }
    }
}

impl Worker {
    /// Run `work` on the worker's thread; `convert` turns its value into a Python object in
    /// `Pending.result()`. A panic in either becomes `InternalError` there.
    pub fn submit<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
        convert: impl FnOnce(Python<'_>, R) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Pending> {
        let (done, outcome) = mpsc::sync_channel::<Ready>(1);
        let job: Job = Box::new(move || {
            let ready: Ready = match catch_unwind(AssertUnwindSafe(work)) {
                Ok(value) => Box::new(move |py| guard(|| convert(py, value))),
                Err(payload) => Box::new(move |_| Err(panicked(&*payload))),
            };
            // The Pending may be gone (its caller stopped): then nobody wants the outcome.
            let _ = done.send(ready);
        });
        self.jobs()?
            .send(job)
            .map_err(|_| InternalError::new_err("bm25x's worker thread has stopped"))?;
        Ok(Pending {
            state: Mutex::new(State::Waiting(outcome)),
        })
    }

    /// Where to send jobs, starting the thread if this process has none yet.
    fn jobs(&self) -> PyResult<Sender<Job>> {
        let mut line = self.line.lock().unwrap_or_else(PoisonError::into_inner);
        let pid = std::process::id();
        if let Some(line) = line.as_ref().filter(|l| l.pid == pid) {
            return Ok(line.jobs.clone());
        }
        // None yet, or one started by a parent process before a fork(): that thread does
        // not exist here. Its channel is left alone (its state is the parent's).
        if let Some(inherited) = line.take() {
            std::mem::forget(inherited);
        }
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("bm25x-worker".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })
            .map_err(|e| {
                ThreadStartError::new_err(format!("could not start bm25x's worker thread ({e})"))
            })?;
        *line = Some(Line {
            pid,
            jobs: jobs.clone(),
        });
        Ok(jobs)
    }
}

enum State {
    Waiting(Receiver<Ready>),
    Done(Py<PyAny>),
    Failed(PyErr),
}

/// A job submitted to a [`Worker`]: its `result()` waits for it (without the GIL, stopping
/// for Ctrl-C) and returns its value or raises its error, the same each time it is asked.
#[pyclass(module = "bm25x._native")]
pub struct Pending {
    state: Mutex<State>,
}

impl Pending {
    /// Keep `ready`'s value or error as this job's outcome.
    fn settle(state: &mut State, py: Python<'_>, ready: Ready) {
        *state = match ready(py) {
            Ok(value) => State::Done(value),
            Err(e) => State::Failed(e),
        };
    }

    fn outcome(state: &State, py: Python<'_>) -> Option<PyResult<Py<PyAny>>> {
        match state {
            State::Waiting(_) => None,
            State::Done(value) => Some(Ok(value.clone_ref(py))),
            State::Failed(e) => Some(Err(e.clone_ref(py))),
        }
    }
}

fn lost() -> PyErr {
    InternalError::new_err("bm25x's worker thread stopped before finishing a job")
}

#[pymethods]
impl Pending {
    /// The job's value, waiting for it if it is still running.
    fn result(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(outcome) = Pending::outcome(state, py) {
                return outcome;
            }
            let State::Waiting(outcome) = &mut *state else {
                unreachable!("a settled job has an outcome");
            };
            // By `&mut`: a `Receiver` may move to another thread but not be shared.
            match py.detach(move || outcome.recv_timeout(WAIT_SLICE)) {
                Ok(ready) => Pending::settle(state, py, ready),
                Err(RecvTimeoutError::Timeout) => py.check_signals()?,
                Err(RecvTimeoutError::Disconnected) => *state = State::Failed(lost()),
            }
        }
    }

    /// Whether the job has finished (its `result()` would not wait).
    #[getter]
    fn done(&mut self, py: Python<'_>) -> bool {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let State::Waiting(outcome) = &*state {
            match outcome.try_recv() {
                Ok(ready) => Pending::settle(state, py, ready),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => *state = State::Failed(lost()),
            }
        }
        true
    }
}
