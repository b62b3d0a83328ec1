//! Thread pools for batch encoding, one per requested thread count, created on first use.
//!
//! Rayon's threads do not survive `fork()`: a child process that reused a parent's pool would
//! wait forever for workers that do not exist. [`forget_after_fork`] (called by the Python
//! package from `os.register_at_fork`) drops the registry's pools without touching their dead
//! threads, so the child builds new ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

static POOLS: Mutex<Vec<(u64, usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The pool with `threads` threads (at least 1).
pub fn get(threads: usize) -> Arc<ThreadPool> {
    let threads = threads.max(1);
    let generation = GENERATION.load(Ordering::Acquire);
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    // Pools of an earlier generation belong to a parent process: leak them (their threads are
    // gone, so nothing may wait on them).
    for stale in pools.extract_if(.., |(g, _, _)| *g != generation) {
        std::mem::forget(stale);
    }
    if let Some((_, _, pool)) = pools.iter().find(|(_, n, _)| *n == threads) {
        return pool.clone();
    }
    let pool = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("bm25x-{i}"))
            .build()
            .expect("spawning encoder threads"),
    );
    pools.push((generation, threads, pool.clone()));
    pool
}

/// Forget every pool; call in a child process right after `fork()`.
pub fn forget_after_fork() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_sized_and_reused() {
        let a = get(3);
        assert_eq!(a.current_num_threads(), 3);
        assert!(Arc::ptr_eq(&a, &get(3)));
        forget_after_fork();
        let b = get(3);
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.current_num_threads(), 3);
    }
}
