//! Datasets: file formats and the datasets archon ships support for.

mod cifar;
mod fashion_mnist;
mod idx;
mod image_folder;
mod split;
mod text;

pub use cifar::Cifar;
pub use fashion_mnist::{FashionMnist, Split, CLASSES, DEFAULT_DIR};
pub use idx::{read_idx_file, IdxArray};
pub use image_folder::ImageFolder;
pub use split::{permutation, Dataset};
pub use text::{tokenize, TextTask, Vocab, FORTUNES_CLASSES, FORTUNES_DIR};
