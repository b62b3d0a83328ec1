//! Thread pools for batch encoding, keyed by thread count and created on first use.
//!
//! Only a few pools are kept ([`MAX_POOLS`], least recently used dropped first), so callers
//! that try many different thread counts do not accumulate threads: a dropped pool's threads
//! exit once the batches running on it finish.
//!
//! Rayon's threads do not survive `fork()`: a child process that reused a parent's pool would
//! wait forever for workers that do not exist. [`forget_after_fork`] (called by the Python
//! package from `os.register_at_fork`) drops the registry's pools without touching their dead
//! threads, so the child builds new ones.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Pools kept at once; each holds `threads` OS threads.
pub const MAX_POOLS: usize = 4;

/// Most recently used last.
static POOLS: Mutex<Vec<(u64, usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The operating system refused to start the requested threads.
#[derive(Debug, Clone, PartialEq)]
pub struct SpawnError {
    pub threads: usize,
    pub reason: String,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not start {} encoder threads ({}); pass a smaller threads=",
            self.threads, self.reason
        )
    }
}

impl std::error::Error for SpawnError {}

/// The pool with `threads` threads (at least 1).
pub fn get(threads: usize) -> Result<Arc<ThreadPool>, SpawnError> {
    let threads = threads.max(1);
    let generation = GENERATION.load(Ordering::Acquire);
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Pools of an earlier generation belong to a parent process: leak them (their threads are
    // gone, so nothing may wait on them).
    for stale in pools.extract_if(.., |(g, _, _)| *g != generation) {
        std::mem::forget(stale);
    }
    if let Some(pos) = pools.iter().position(|(_, n, _)| *n == threads) {
        let entry = pools.remove(pos);
        let pool = entry.2.clone();
        pools.push(entry);
        return Ok(pool);
    }
    let pool = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("bm25x-{i}"))
            .build()
            .map_err(|e| SpawnError {
                threads,
                reason: e.to_string(),
            })?,
    );
    if pools.len() >= MAX_POOLS {
        // Batches still running on it keep their `Arc`; its threads exit when they finish.
        pools.remove(0);
    }
    pools.push((generation, threads, pool.clone()));
    Ok(pool)
}

/// Forget every pool; call in a child process right after `fork()`.
pub fn forget_after_fork() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the registry is global, so parallel tests would evict each other's pools.
    #[test]
    fn pools_are_sized_reused_and_bounded() {
        let a = get(3).unwrap();
        assert_eq!(a.current_num_threads(), 3);
        assert!(Arc::ptr_eq(&a, &get(3).unwrap()));
        for n in 4..4 + 2 * MAX_POOLS {
            get(n).unwrap();
        }
        assert!(POOLS.lock().unwrap().len() <= MAX_POOLS);
        assert!(!Arc::ptr_eq(&a, &get(3).unwrap()), "evicted and rebuilt");
        forget_after_fork();
        let b = get(3).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.current_num_threads(), 3);
    }
}
