//! The output types: one sparse vector, and many in CSR form (what `_sparse.py` wraps).

/// One sparse vector: strictly ascending `indices`, aligned `values`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// Many sparse vectors in CSR form: vector `i` is `indices[indptr[i]..indptr[i+1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    pub indptr: Vec<u64>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Default for Csr {
    fn default() -> Self {
        Csr {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl Csr {
    pub fn len(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn row(&self, i: usize) -> SparseVec {
        // Offsets into `indices`, an in-memory Vec: they fit usize wherever they were made.
        #[allow(clippy::cast_possible_truncation)]
        let (a, b) = (self.indptr[i] as usize, self.indptr[i + 1] as usize);
        SparseVec {
            indices: self.indices[a..b].to_vec(),
            values: self.values[a..b].to_vec(),
        }
    }

    /// Add the rows of `other` after this batch's rows.
    pub fn append(&mut self, other: Csr) {
        // `indptr` always starts with 0, so it is never empty.
        let base = self.indptr.last().copied().unwrap_or(0);
        self.indptr
            .extend(other.indptr[1..].iter().map(|end| end + base));
        self.indices.extend(other.indices);
        self.values.extend(other.values);
    }
}

/// Document vectors laid out as fastembed's `Qdrant/bm25` builds them in Python: each row's
/// distinct ids in the order their terms first occur (two terms sharing an id: the first one's
/// position, the later one's weight) and float64 weights (see [`crate::weight::fastembed_f64`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FirstOccurrenceCsr {
    pub indptr: Vec<u64>,
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
}
