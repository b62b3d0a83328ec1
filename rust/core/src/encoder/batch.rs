//! Batches: many texts encoded into one [`Csr`], on the calling thread or on a pool, with the
//! caller able to look in (for Ctrl-C) while the work runs.
//!
//! One thread, or a batch under [`MIN_PARALLEL_BYTES`]: the caller encodes the texts piece by
//! piece (about [`SERIAL_PIECE_BYTES`] of text each) straight into the output, calling `poll`
//! between pieces.
//!
//! Several threads: the batch is cut into many small pieces by bytes (the work follows the
//! bytes). The calling thread and `threads - 1` pool threads take the next piece from a shared
//! counter until none is left, so a thread that drew short texts (or woke late) simply takes
//! more pieces, and nothing waits on a join until the whole batch is done; the caller calls
//! `poll` between its pieces, at most every [`POLL_EVERY`]. The pieces' outputs are then copied
//! the same way into the one output, at offsets known from their lengths. Serial per call:
//! cutting the pieces (one pass over the lengths) and carving the output; per piece: one atomic
//! increment and an uncontended lock.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use rayon::ThreadPool;

use super::{Csr, Encoder, Mode};
use crate::pool::{self, SpawnError};

/// Text bytes the caller encodes between two calls of `poll` on the one-thread path: a few
/// milliseconds of work.
pub const SERIAL_PIECE_BYTES: usize = 1 << 20;
/// How often the caller calls `poll` on the parallel path (between two of its pieces).
pub const POLL_EVERY: Duration = Duration::from_millis(10);
/// Pieces per thread the parallel path aims for, bounded by the piece sizes below: enough that
/// the last piece of the batch is a small share of each thread's work.
const PIECES_PER_THREAD: usize = 16;
/// Bounds on a parallel piece's text bytes: small enough to balance the threads at the end of
/// a batch, large enough that taking a piece (and its output buffers) costs nothing in
/// comparison.
const MIN_PIECE_BYTES: usize = 8 << 10;
const MAX_PIECE_BYTES: usize = 64 << 10;
/// Batches with fewer text bytes (plus [`TEXT_COST`] each) than this are encoded on the
/// calling thread whatever `threads` says: about two milliseconds of work on one core.
pub const MIN_PARALLEL_BYTES: usize = 256 << 10;
/// Outputs with fewer entries than this are copied together by the calling thread alone.
const MIN_PARALLEL_COPY: usize = 1 << 18;
/// The fixed cost of a text, in bytes of text: the per-document work (row output, sorting).
const TEXT_COST: usize = 16;

/// Why a batch did not finish.
#[derive(Debug)]
pub enum BatchError<E> {
    /// The operating system refused to start the pool's threads.
    Spawn(SpawnError),
    /// `poll` returned this error; the batch stopped at the next piece boundary.
    Stopped(E),
}

/// The cost of one text: its bytes plus [`TEXT_COST`].
fn cost<S: AsRef<str>>(text: &S) -> usize {
    text.as_ref().len() + TEXT_COST
}

/// The cost of `texts`.
fn bytes<S: AsRef<str>>(texts: &[S]) -> usize {
    texts.iter().map(cost).sum()
}

/// Consecutive ranges of `texts` holding about `target` cost each (at least one text each).
fn cut<S: AsRef<str>>(texts: &[S], target: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let (mut start, mut acc) = (0, 0);
    for (i, t) in texts.iter().enumerate() {
        acc += cost(t);
        if acc >= target {
            pieces.push(start..i + 1);
            start = i + 1;
            acc = 0;
        }
    }
    if start < texts.len() {
        pieces.push(start..texts.len());
    }
    pieces
}

impl Encoder {
    /// Encode many texts into one CSR batch, in input order. With `threads > 1` and at least
    /// 256 KiB of text (`MIN_PARALLEL_BYTES`), the calling thread and `threads - 1` pool threads
    /// encode it together; the result is the same.
    ///
    /// `poll` is called on the calling thread every few milliseconds while the batch runs; if
    /// it returns an error, the batch stops as soon as every thread has finished its current
    /// piece and that error is returned.
    ///
    /// # Panics
    ///
    /// If encoding a text panics (a bug); the panic is raised on the calling thread once every
    /// pool thread has stopped.
    pub fn encode_batch_polled<S, E>(
        &self,
        texts: &[S],
        mode: Mode,
        threads: usize,
        mut poll: impl FnMut() -> Result<(), E>,
    ) -> Result<Csr, BatchError<E>>
    where
        S: AsRef<str> + Sync,
    {
        // Small batches stay on the calling thread: waking a sleeping pool thread costs tens
        // of microseconds on bare metal and 150-500 µs on a 2-vCPU VM, where two threads only
        // started to pay off around 200-300 KB of short documents (benches/README.md).
        let total = bytes(texts);
        if threads <= 1 || texts.len() < 2 || total < MIN_PARALLEL_BYTES {
            let mut csr = Csr::default();
            csr.indptr.reserve(texts.len());
            let pieces = cut(texts, SERIAL_PIECE_BYTES);
            for (k, piece) in pieces.iter().enumerate() {
                self.encode_into(&texts[piece.clone()], mode, &mut csr);
                if k == 0 && pieces.len() > 1 {
                    // Size the output once from the first piece's rows per byte (growing it by
                    // doubling would write, and fault in, twice the memory).
                    let done = bytes(&texts[piece.clone()]);
                    let want = csr.indices.len().saturating_mul(total) / done.max(1) / 8 * 9;
                    csr.indices.reserve(want.saturating_sub(csr.indices.len()));
                    csr.values.reserve(want.saturating_sub(csr.values.len()));
                }
                poll().map_err(BatchError::Stopped)?;
            }
            return Ok(csr);
        }
        // The caller works too: `threads - 1` pool threads help it.
        let helpers = threads - 1;
        // The error names the threads asked for, not the helpers.
        let helpers_pool =
            pool::get(helpers).map_err(|e| BatchError::Spawn(SpawnError { threads, ..e }))?;
        let target =
            (total / (threads * PIECES_PER_THREAD)).clamp(MIN_PIECE_BYTES, MAX_PIECE_BYTES);
        let pieces = cut(texts, target);
        let outputs: Vec<OnceLock<Csr>> = pieces.iter().map(|_| OnceLock::new()).collect();
        let mut stopped = None;
        let mut last_poll = Instant::now();
        spread(
            &helpers_pool,
            helpers,
            pieces,
            |i, piece| {
                let mut csr = Csr::default();
                csr.indptr.reserve(piece.len());
                self.encode_into(&texts[piece], mode, &mut csr);
                // Each piece is taken by exactly one thread, so its cell is empty.
                let _ = outputs[i].set(csr);
            },
            || {
                if last_poll.elapsed() < POLL_EVERY {
                    return true;
                }
                last_poll = Instant::now();
                poll().map_err(|e| stopped = Some(e)).is_ok()
            },
        );
        if let Some(e) = stopped {
            return Err(BatchError::Stopped(e));
        }
        // Once more at the end, so that every batch is looked in on at least once.
        poll().map_err(BatchError::Stopped)?;
        let parts: Vec<Csr> = outputs
            .into_iter()
            .map(|cell| cell.into_inner().expect("every piece was encoded"))
            .collect();
        let nnz: usize = parts.iter().map(|p| p.indices.len()).sum();
        let copiers = if nnz < MIN_PARALLEL_COPY { 0 } else { helpers };
        Ok(concat(parts, texts.len(), &helpers_pool, copiers))
    }

    /// Encode many texts into one CSR batch, in input order (see [`Self::encode_batch_polled`]).
    /// Fails only if the operating system refuses to start the threads.
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        mode: Mode,
        threads: usize,
    ) -> Result<Csr, SpawnError> {
        self.encode_batch_polled(texts, mode, threads, || Ok::<(), ()>(()))
            .map_err(|e| match e {
                BatchError::Spawn(e) => e,
                BatchError::Stopped(()) => unreachable!("this poll never stops the batch"),
            })
    }

    /// Append the rows of `texts` to `csr`.
    fn encode_into<S: AsRef<str>>(&self, texts: &[S], mode: Mode, csr: &mut Csr) {
        let Csr {
            indptr,
            indices,
            values,
        } = csr;
        self.encode_each(texts, mode, indices, values, |end| indptr.push(end as u64));
    }
}

/// Run `each(i, item)` for every item, on the calling thread and `helpers` threads of `pool`,
/// each thread taking the next item until none is left. `between` runs on the calling thread
/// after each of its items; when it returns false, no thread starts another item.
fn spread<T: Send>(
    pool: &ThreadPool,
    helpers: usize,
    items: Vec<T>,
    each: impl Fn(usize, T) + Sync,
    mut between: impl FnMut() -> bool,
) {
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let take = || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let item = items
            .get(i)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some((i, item))
    };
    pool.in_place_scope(|scope| {
        for _ in 0..helpers.min(items.len().saturating_sub(1)) {
            scope.spawn(|_| {
                while let Some((i, item)) = take() {
                    each(i, item);
                }
            });
        }
        while let Some((i, item)) = take() {
            each(i, item);
            if !between() {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
}

/// The rows of `parts`, in order, in one [`Csr`] of `rows` rows; each part is copied into
/// place, on the calling thread and `helpers` threads of `pool`.
fn concat(parts: Vec<Csr>, rows: usize, pool: &ThreadPool, helpers: usize) -> Csr {
    let nnz: usize = parts.iter().map(|p| p.indices.len()).sum();
    let mut indptr = vec![0u64; rows + 1];
    let mut indices = vec![0u32; nnz];
    let mut values = vec![0f32; nnz];
    // Carve the outputs into one destination per part.
    let mut jobs = Vec::with_capacity(parts.len());
    let (mut free_ends, mut free_ids, mut free_weights) =
        (&mut indptr[1..], &mut indices[..], &mut values[..]);
    let mut base = 0u64;
    for part in parts {
        let (rows_here, nnz_here) = (part.len(), part.indices.len());
        let (ends, ends_after) = std::mem::take(&mut free_ends).split_at_mut(rows_here);
        let (ids, ids_after) = std::mem::take(&mut free_ids).split_at_mut(nnz_here);
        let (weights, weights_after) = std::mem::take(&mut free_weights).split_at_mut(nnz_here);
        (free_ends, free_ids, free_weights) = (ends_after, ids_after, weights_after);
        jobs.push((ends, ids, weights, base, part));
        base += nnz_here as u64;
    }
    spread(
        pool,
        helpers,
        jobs,
        |_, (ends, ids, weights, base, part)| {
            for (dst, end) in ends.iter_mut().zip(&part.indptr[1..]) {
                *dst = base + end;
            }
            ids.copy_from_slice(&part.indices);
            weights.copy_from_slice(&part.values);
        },
        || true,
    );
    Csr {
        indptr,
        indices,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Config;

    fn texts(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let words = ["running", "dogs", "the", "jumped", "über", "café", "x"];
                (0..(i * 7) % 40)
                    .map(|j| words[(i + j * 3) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn encoder() -> Encoder {
        Encoder::new(Config::from_json("{}").unwrap()).unwrap()
    }

    #[test]
    fn cut_covers_every_text_once_in_order() {
        let t = texts(1000);
        for target in [1, 50, 4096, usize::MAX] {
            let pieces = cut(&t, target);
            assert_eq!(pieces.first().map(|r| r.start), Some(0));
            assert_eq!(pieces.last().map(|r| r.end), Some(t.len()));
            assert!(pieces.windows(2).all(|w| w[0].end == w[1].start));
            assert!(pieces.iter().all(|r| !r.is_empty()));
        }
        assert!(cut(&Vec::<String>::new(), 10).is_empty());
    }

    #[test]
    fn every_thread_count_gives_the_serial_result() {
        let e = encoder();
        // Enough text for many parallel pieces, and a batch smaller than one piece.
        for n in [0, 1, 2, 3, 17, 5000] {
            let t = texts(n);
            let serial = e.encode_batch(&t, Mode::Document, 1).unwrap();
            assert_eq!(serial.len(), n);
            for threads in [2, 3, 8] {
                for mode in [Mode::Document, Mode::Query] {
                    let want = e.encode_batch(&t, mode, 1).unwrap();
                    assert_eq!(e.encode_batch(&t, mode, threads).unwrap(), want);
                }
            }
        }
    }

    #[test]
    fn concat_copies_every_part_in_place_on_any_number_of_threads() {
        let e = encoder();
        let t = texts(300);
        let parts: Vec<Csr> = cut(&t, 500)
            .into_iter()
            .map(|r| e.encode_batch(&t[r], Mode::Document, 1).unwrap())
            .collect();
        let mut want = Csr::default();
        for p in parts.clone() {
            want.append(p);
        }
        let pool = pool::get(3).unwrap();
        for helpers in [0, 1, 3] {
            assert_eq!(concat(parts.clone(), t.len(), &pool, helpers), want);
        }
    }

    #[test]
    fn a_poll_error_stops_the_batch_and_is_returned() {
        let e = encoder();
        let t: Vec<String> = texts(20_000);
        for threads in [1, 2] {
            let mut calls = 0;
            let out = e.encode_batch_polled(&t, Mode::Document, threads, || {
                calls += 1;
                Err::<(), _>("interrupted")
            });
            assert!(matches!(out, Err(BatchError::Stopped("interrupted"))));
            assert_eq!(calls, 1, "polling ends with the first error");
            // The encoder is still usable and exact afterwards.
            assert_eq!(
                e.encode_batch(&t[..50], Mode::Document, threads).unwrap(),
                e.encode_batch(&t[..50], Mode::Document, 1).unwrap()
            );
        }
    }
}
