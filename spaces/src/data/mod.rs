//! Datasets: file formats and the datasets archon ships support for.

mod fashion_mnist;
mod idx;
mod split;
mod text;

pub use fashion_mnist::{FashionMnist, Split, CLASSES, DEFAULT_DIR};
pub use idx::{read_idx_file, IdxArray};
pub use split::{permutation, Dataset};
pub use text::{tokenize, TextTask, Vocab, FORTUNES_CLASSES, FORTUNES_DIR};
