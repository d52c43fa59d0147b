//! Fashion-MNIST (Xiao et al. 2017): 70,000 28×28 grey images of 10 clothing classes,
//! from Debian's `dataset-fashion-mnist` package (installed by `scripts/setup.sh`).
//! MNIST has the same files and format: load it with its folder.

use super::idx::{read_idx_file, IdxArray};
use crate::error::{Result, SpacesError};
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Where Debian's package puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The class names, by label.
pub const CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The training (60,000) or test (10,000) split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// `train-*-idx*-ubyte.gz`
    Train,
    /// `t10k-*-idx*-ubyte.gz`
    Test,
}

/// One split as tensors.
#[derive(Debug)]
pub struct FashionMnist {
    /// `[N, 1, 28, 28]` float32 in `[0, 1]`.
    pub images: Tensor,
    /// `[N]` int64 labels in `0..10`.
    pub labels: Tensor,
}

impl FashionMnist {
    /// Loads a split from `dir` (the package's folder when `None`).
    pub fn load(dir: Option<&Path>, split: Split) -> Result<Self> {
        let dir: PathBuf = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
        let prefix = match split {
            Split::Train => "train",
            Split::Test => "t10k",
        };
        // Gzipped files as distributed, or the same names unpacked.
        let pick = |name: String| {
            let gz = dir.join(format!("{name}.gz"));
            if gz.is_file() || !dir.join(&name).is_file() {
                gz
            } else {
                dir.join(name)
            }
        };
        let images_path = pick(format!("{prefix}-images-idx3-ubyte"));
        let labels_path = pick(format!("{prefix}-labels-idx1-ubyte"));
        for path in [&images_path, &labels_path] {
            if !path.is_file() {
                return Err(SpacesError::Read {
                    path: path.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    hint: "install Debian's dataset-fashion-mnist (scripts/setup.sh does) or point to a folder with the four IDX .gz files".into(),
                });
            }
        }
        let images = read_idx_file(&images_path)?;
        let labels = read_idx_file(&labels_path)?;
        Self::from_arrays(images, labels, &images_path, &labels_path)
    }

    fn from_arrays(
        images: IdxArray,
        labels: IdxArray,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self> {
        let [n, h, w] = images.shape[..] else {
            return Err(SpacesError::Format {
                path: images_path.to_path_buf(),
                reason: format!(
                    "expected images of shape [N, 28, 28], found {:?}",
                    images.shape
                ),
            });
        };
        if (h, w) != (28, 28) {
            return Err(SpacesError::Format {
                path: images_path.to_path_buf(),
                reason: format!("expected 28×28 images, found {h}×{w}"),
            });
        }
        if labels.shape != [n] {
            return Err(SpacesError::Format {
                path: labels_path.to_path_buf(),
                reason: format!(
                    "expected {n} labels to match the images, found shape {:?}",
                    labels.shape
                ),
            });
        }
        if let Some(bad) = labels.data.iter().find(|&&l| l as usize >= CLASSES.len()) {
            return Err(SpacesError::Format {
                path: labels_path.to_path_buf(),
                reason: format!("label {bad} is not a class (0..=9)"),
            });
        }
        let images = Tensor::from_slice(&images.data)
            .view([n as i64, 1, 28, 28])
            .to_kind(Kind::Float)
            / 255.0;
        let labels = Tensor::from_slice(&labels.data).to_kind(Kind::Int64);
        Ok(FashionMnist { images, labels })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The split as a generic in-memory dataset.
    pub fn into_dataset(self) -> super::Dataset {
        super::Dataset {
            inputs: self.images,
            labels: self.labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_real_test_split() {
        let test = FashionMnist::load(None, Split::Test)
            .expect("scripts/setup.sh installs dataset-fashion-mnist");
        assert_eq!(test.images.size(), vec![10000, 1, 28, 28]);
        assert_eq!(test.len(), 10000);
        // The test split is balanced: 1000 images of each class.
        let counts = Vec::<i64>::try_from(test.labels.bincount::<Tensor>(None, 10)).unwrap();
        assert_eq!(counts, vec![1000; 10]);
        // Mean pixel of the raw test images is 73.1466 / 255.
        let mean = test.images.mean(Kind::Float).double_value(&[]);
        assert!((mean - 73.14656658 / 255.0).abs() < 1e-5, "mean {mean}");
    }

    #[test]
    fn a_missing_folder_says_how_to_install_the_data() {
        let e = FashionMnist::load(Some(Path::new("/nonexistent/fmnist")), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/nonexistent/fmnist/train-images-idx3-ubyte.gz: cannot read"),
            "{e}"
        );
        assert!(e.contains("install Debian's dataset-fashion-mnist"), "{e}");
    }
}
