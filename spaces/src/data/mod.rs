//! Datasets: file formats and the datasets archon ships support for.

mod fashion_mnist;
mod idx;

pub use fashion_mnist::{FashionMnist, Split, CLASSES, DEFAULT_DIR};
pub use idx::{read_idx_file, IdxArray};
