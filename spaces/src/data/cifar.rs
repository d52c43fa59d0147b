//! CIFAR-10 and CIFAR-100 in their binary format, from a folder the user gives:
//! CIFAR-10's `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin` (records of
//! 1 label byte + 3,072 pixel bytes), CIFAR-100's `train.bin` and `test.bin` (records
//! of a coarse and a fine label byte + 3,072 pixel bytes; the fine label is used).

use super::{Dataset, Split};
use crate::error::{Result, SpacesError};
use std::path::Path;
use tch::{Kind, Tensor};

/// Which CIFAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar {
    /// 10 classes.
    Ten,
    /// 100 classes (fine labels).
    Hundred,
}

impl Cifar {
    fn files(self, split: Split) -> Vec<String> {
        match (self, split) {
            (Cifar::Ten, Split::Train) => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            (Cifar::Ten, Split::Test) => vec!["test_batch.bin".into()],
            (Cifar::Hundred, Split::Train) => vec!["train.bin".into()],
            (Cifar::Hundred, Split::Test) => vec!["test.bin".into()],
        }
    }

    /// The number of classes.
    pub fn classes(self) -> i64 {
        match self {
            Cifar::Ten => 10,
            Cifar::Hundred => 100,
        }
    }

    /// Loads a split from `dir`: images `[N, 3, 32, 32]` in `[0, 1]`, labels `[N]`.
    pub fn load(self, dir: &Path, split: Split) -> Result<Dataset> {
        let label_bytes = if self == Cifar::Ten { 1 } else { 2 };
        let record = label_bytes + 3072;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for name in self.files(split) {
            let path = dir.join(&name);
            let bytes = std::fs::read(&path).map_err(|source| SpacesError::Read {
                path: path.clone(),
                source,
                hint: format!(
                    "give the folder of the CIFAR-{} binary version (it holds {name})",
                    self.classes()
                ),
            })?;
            if bytes.is_empty() || bytes.len() % record != 0 {
                return Err(SpacesError::Format {
                    path,
                    reason: format!("{} bytes is not a whole number of {record}-byte records (truncated, or not the binary version?)", bytes.len()),
                });
            }
            for (i, r) in bytes.chunks_exact(record).enumerate() {
                let label = r[label_bytes - 1] as i64;
                if label >= self.classes() {
                    return Err(SpacesError::Format {
                        path,
                        reason: format!(
                            "record {i}: label {label} is not one of the {} classes",
                            self.classes()
                        ),
                    });
                }
                labels.push(label);
                pixels.extend_from_slice(&r[label_bytes..]);
            }
        }
        let n = labels.len() as i64;
        Ok(Dataset {
            inputs: Tensor::from_slice(&pixels)
                .view([n, 3, 32, 32])
                .to_kind(Kind::Float)
                / 255.0,
            labels: Tensor::from_slice(&labels),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_and_refuses_truncated_files() {
        let dir = std::env::temp_dir().join(format!("archon-cifar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Two CIFAR-100 records: fine labels 7 and 99, pixels 1s and 2s.
        let mut bytes = vec![3u8, 7];
        bytes.extend(vec![1u8; 3072]);
        bytes.extend([0u8, 99]);
        bytes.extend(vec![2u8; 3072]);
        std::fs::write(dir.join("test.bin"), &bytes).unwrap();
        let d = Cifar::Hundred.load(&dir, Split::Test).unwrap();
        assert_eq!(d.inputs.size(), [2, 3, 32, 32]);
        assert_eq!(Vec::<i64>::try_from(&d.labels).unwrap(), [7, 99]);
        assert!((d.inputs.get(1).mean(Kind::Float).double_value(&[]) - 2.0 / 255.0).abs() < 1e-6);
        std::fs::write(dir.join("test.bin"), &bytes[..5000]).unwrap();
        let e = Cifar::Hundred
            .load(&dir, Split::Test)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("5000 bytes is not a whole number of 3074-byte records"),
            "{e}"
        );
        let e = Cifar::Ten.load(&dir, Split::Train).unwrap_err().to_string();
        assert!(e.contains("data_batch_1.bin: cannot read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
