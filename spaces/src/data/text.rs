//! Text classification data: a TSV file (`label<TAB>text` per line) or Debian's
//! `fortunes` files (one class per file), a word tokenizer, a vocabulary built from
//! the training split, and token-id tensors for the text spaces.

use super::{permutation, Dataset};
use crate::error::{Result, SpacesError};
use std::{collections::HashMap, path::Path};
use tch::Tensor;

/// Where Debian's `fortunes` package puts its files.
pub const FORTUNES_DIR: &str = "/usr/share/games/fortunes";

/// The default fortunes task: six of the larger files, one topic each.
pub const FORTUNES_CLASSES: [&str; 6] = [
    "computers",
    "definitions",
    "people",
    "politics",
    "science",
    "songs-poems",
];

/// Labelled texts before tokenization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextTask {
    /// The texts.
    pub texts: Vec<String>,
    /// Each text's class index.
    pub labels: Vec<i64>,
    /// Class names by index.
    pub classes: Vec<String>,
}

impl TextTask {
    /// Reads `label<TAB>text` lines; blank lines and lines starting with `#` are skipped.
    pub fn from_tsv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpacesError::Read {
            path: path.to_path_buf(),
            source,
            hint: "give a UTF-8 text file with one `label<TAB>text` example per line".into(),
        })?;
        let mut task = TextTask::default();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| SpacesError::Format {
                path: path.to_path_buf(),
                reason: format!("line {}: {reason}; expected `label<TAB>text`", n + 1),
            };
            let (label, body) = line.split_once('\t').ok_or_else(|| bad("no tab"))?;
            if label.trim().is_empty() {
                return Err(bad("empty label"));
            }
            if body.trim().is_empty() {
                return Err(bad("empty text"));
            }
            task.push(label.trim(), body);
        }
        task.check(path)
    }

    /// Reads fortune files (records separated by `%` lines), one class per file.
    pub fn fortunes(dir: &Path, files: &[&str]) -> Result<Self> {
        let mut task = TextTask::default();
        for file in files {
            let path = dir.join(file);
            let text = std::fs::read(&path).map_err(|source| SpacesError::Read {
                path: path.clone(),
                source,
                hint: "install Debian's fortunes package (scripts/setup.sh does)".into(),
            })?;
            let text = String::from_utf8_lossy(&text);
            for record in text.split("\n%\n") {
                let record = record.trim_matches(|c: char| c == '%' || c.is_whitespace());
                if !record.is_empty() {
                    task.push(file, record);
                }
            }
        }
        task.check(dir)
    }

    fn push(&mut self, label: &str, text: &str) {
        let class = match self.classes.iter().position(|c| c == label) {
            Some(i) => i,
            None => {
                self.classes.push(label.to_string());
                self.classes.len() - 1
            }
        };
        self.texts.push(text.to_string());
        self.labels.push(class as i64);
    }

    fn check(self, path: &Path) -> Result<Self> {
        if self.classes.len() < 2 {
            return Err(SpacesError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "{} class(es) found; classification needs at least 2",
                    self.classes.len()
                ),
            });
        }
        Ok(self)
    }

    /// The fraction of the most common class (the majority-class baseline).
    pub fn majority_fraction(&self) -> f64 {
        let mut counts = vec![0usize; self.classes.len()];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        *counts.iter().max().unwrap_or(&0) as f64 / self.labels.len().max(1) as f64
    }

    /// A seeded split into (train, test), `test_fraction` of the examples in test.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (TextTask, TextTask) {
        let order = Vec::<i64>::try_from(permutation(self.texts.len(), seed)).unwrap_or_default();
        let cut =
            ((self.texts.len() as f64) * (1.0 - test_fraction.clamp(0.0, 1.0))).round() as usize;
        let pick = |idx: &[i64]| TextTask {
            texts: idx
                .iter()
                .map(|&i| self.texts[i as usize].clone())
                .collect(),
            labels: idx.iter().map(|&i| self.labels[i as usize]).collect(),
            classes: self.classes.clone(),
        };
        (pick(&order[..cut]), pick(&order[cut..]))
    }
}

/// Lower-cased words: runs of letters, digits and apostrophes.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A word vocabulary: id 0 is padding, 1 unknown words.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    ids: HashMap<String, i64>,
}

impl Vocab {
    /// The words of `texts` seen at least `min_freq` times, most frequent first, at
    /// most `max_size` of them (ties broken alphabetically, so the vocabulary is
    /// deterministic).
    pub fn build(texts: &[String], min_freq: usize, max_size: usize) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in texts {
            for w in tokenize(t) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> =
            counts.into_iter().filter(|(_, c)| *c >= min_freq).collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let ids = words
            .into_iter()
            .take(max_size)
            .enumerate()
            .map(|(i, (w, _))| (w, i as i64 + 2))
            .collect();
        Vocab { ids }
    }

    /// Size including padding and unknown.
    pub fn len(&self) -> usize {
        self.ids.len() + 2
    }

    /// Whether only padding and unknown exist.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Token ids of `text`, truncated or padded (with 0) to `max_len`.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<i64> {
        let mut ids: Vec<i64> = tokenize(text)
            .iter()
            .take(max_len)
            .map(|w| self.ids.get(w).copied().unwrap_or(1))
            .collect();
        ids.resize(max_len, 0);
        ids
    }

    /// A task as a dataset: inputs `[N, max_len]` token ids, labels `[N]`.
    pub fn dataset(&self, task: &TextTask, max_len: usize) -> Dataset {
        let flat: Vec<i64> = task
            .texts
            .iter()
            .flat_map(|t| self.encode(t, max_len))
            .collect();
        Dataset {
            inputs: Tensor::from_slice(&flat).view([task.texts.len() as i64, max_len as i64]),
            labels: Tensor::from_slice(&task.labels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_and_vocabulary() {
        assert_eq!(
            tokenize("Don't PANIC: 42 towels!"),
            ["don't", "panic", "42", "towels"]
        );
        let v = Vocab::build(&["a b b c".into(), "b c".into()], 2, 10);
        assert_eq!(v.len(), 4); // pad, unk, b, c
        assert_eq!(v.encode("b c a zzz", 6), vec![2, 3, 1, 1, 0, 0]);
        assert_eq!(v.encode("b b b", 2), vec![2, 2]);
    }

    #[test]
    fn tsv_errors_name_the_line() {
        let dir = std::env::temp_dir().join(format!("archon-tsv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.tsv");
        std::fs::write(
            &path,
            "pos\tgood film\n# comment\n\nneg\tbad film\nneg no tab here\n",
        )
        .unwrap();
        let e = TextTask::from_tsv(&path).unwrap_err().to_string();
        assert!(
            e.ends_with("data.tsv: line 5: no tab; expected `label<TAB>text`"),
            "{e}"
        );
        std::fs::write(&path, "pos\tgood film\nneg\tbad film\n").unwrap();
        let task = TextTask::from_tsv(&path).unwrap();
        assert_eq!(task.classes, ["pos", "neg"]);
        assert_eq!(task.labels, [0, 1]);
        std::fs::write(&path, "pos\tgood\npos\tfine\n").unwrap();
        let e = TextTask::from_tsv(&path).unwrap_err().to_string();
        assert!(e.contains("1 class(es) found"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_fortunes_task_loads() {
        let task = TextTask::fortunes(Path::new(FORTUNES_DIR), &FORTUNES_CLASSES)
            .expect("scripts/setup.sh installs fortunes");
        assert_eq!(task.classes.len(), 6);
        assert!(task.texts.len() > 4000, "{} fortunes", task.texts.len());
        assert!(task.majority_fraction() < 0.3);
        let (train, test) = task.split(0.2, 1);
        assert_eq!(train.texts.len() + test.texts.len(), task.texts.len());
        let e = TextTask::fortunes(Path::new(FORTUNES_DIR), &["no-such-topic", "people"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no-such-topic: cannot read"), "{e}");
    }
}
