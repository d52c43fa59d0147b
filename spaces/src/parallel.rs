//! Data-parallel training passes on CPU: a batch split across replicas of a network
//! that share its weights, each replica running its own forward and backward pass on
//! its own thread with single-threaded operations; their weight gradients are summed
//! into the network's.
//!
//! Why: on a few cores, libtorch parallelises each operation over its OpenMP threads,
//! and a supernet's thousands of small operations (batch norm, element-wise mixing)
//! spend much of a step at the barriers that end each one. Replicas have no barriers:
//! on 2 cores one weighted DARTS step (width 8, 5 cells, batch 64) takes 1.17 s
//! instead of 1.57 s (`archon bench one-shot`). libtorch's CPU autograd runs a
//! backward pass on the thread that calls it, so the replicas' backward passes run in
//! parallel too.
//!
//! Each replica is a network built afresh whose variables are made to share the
//! original's storage (`set_data`), so the optimizer's in-place updates reach every
//! replica; its gradients are its own until [`TiedWeights::reduce_grads`] adds them
//! into the original's. Batch-norm running statistics are not shared (two threads
//! would update them at once): each replica keeps its own, and the original's follow
//! its own part of each batch. Batch norm normalises each part by that part's
//! statistics, as data-parallel training without synchronised batch norm does.

use crate::error::{Result, SpacesError};
use archon_plugin_api::one_shot::pass_on_gradients;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tch::{nn, Device, Tensor};

/// Examples each replica should get at least: batch norm over fewer is noisy.
pub const MIN_EXAMPLES_PER_REPLICA: i64 = 16;

/// How many replicas to split a batch of `batch` examples into on `device`: one per
/// intra-op thread on CPU (at most one per [`MIN_EXAMPLES_PER_REPLICA`] examples),
/// one on a GPU (where one operation already fills the device).
pub fn auto_replicas(device: Device, batch: i64) -> usize {
    if device != Device::Cpu {
        return 1;
    }
    let threads = tch::get_num_threads().max(1) as i64;
    threads.min(batch / MIN_EXAMPLES_PER_REPLICA).max(1) as usize
}

/// The parts of `n` examples for `parts` replicas: `(start, length)`, lengths
/// differing by at most one, none empty.
pub fn split(n: i64, parts: usize) -> Vec<(i64, i64)> {
    let parts = (parts as i64).clamp(1, n.max(1));
    let (base, extra) = (n / parts, n % parts);
    let mut start = 0;
    (0..parts)
        .map(|k| {
            let len = base + i64::from(k < extra);
            let part = (start, len);
            start += len;
            part
        })
        .collect()
}

/// Whether `name` is a batch-norm running statistic (each replica keeps its own).
fn is_running_statistic(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var")
}

/// A replica's trainable variables paired with the original's.
#[derive(Debug)]
pub struct TiedWeights {
    pairs: Vec<(Tensor, Tensor)>,
}

impl TiedWeights {
    /// Makes every variable of `replica` (but batch-norm running statistics) share
    /// storage with `original`'s variable of the same name.
    pub fn tie(original: &nn::VarStore, replica: &nn::VarStore) -> Result<Self> {
        let originals = original.variables();
        let mut pairs = Vec::new();
        for (name, mut copy) in replica.variables() {
            if is_running_statistic(&name) {
                continue;
            }
            let source = originals.get(&name).ok_or_else(|| {
                SpacesError::Config(format!(
                    "replica: the network has no variable {name:?} (a space must build the same variables every time)"
                ))
            })?;
            if source.size() != copy.size() {
                return Err(SpacesError::Config(format!(
                    "replica: variable {name:?} has shape {:?}, the network's {:?}",
                    copy.size(),
                    source.size()
                )));
            }
            copy.set_data(source);
            if copy.requires_grad() {
                pairs.push((source.shallow_clone(), copy));
            }
        }
        Ok(TiedWeights { pairs })
    }

    /// Adds the replica's weight gradients into the original's and zeroes its own.
    pub fn reduce_grads(&self) {
        let mut undefined = Vec::new();
        tch::no_grad(|| {
            for (original, copy) in &self.pairs {
                let mut g = copy.grad();
                if !g.defined() {
                    continue;
                }
                let mut target = original.grad();
                if target.defined() {
                    let _ = target.g_add_(&g);
                    let _ = g.zero_();
                } else {
                    undefined.push((original, g));
                }
            }
        });
        // An original weight without a gradient yet (its own part did not reach it):
        // passing g on sets it to g.
        pass_on_gradients(undefined.iter().map(|(w, g)| (*w, g)));
        for (_, mut g) in undefined {
            let _ = g.zero_();
        }
    }
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> SpacesError {
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    SpacesError::Config(format!("a replica's training pass failed: {what}"))
}

/// A replica's share of one pass, run on its own thread.
pub type Job<'a, T> = Box<dyn FnOnce() -> Result<T> + Send + 'a>;

/// Runs `first` on this thread and every job of `rest` on a thread of its own, all at
/// once, with libtorch's intra-op threads divided among them (restored afterwards);
/// returns their results in order. A panic in any is an error, not a crash.
pub fn run_parallel<'a, T: Send + 'a>(
    first: impl FnOnce() -> Result<T>,
    rest: Vec<Job<'a, T>>,
) -> Result<Vec<T>> {
    let before = tch::get_num_threads().max(1);
    tch::set_num_threads((before / (rest.len() as i32 + 1)).max(1));
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = rest.into_iter().map(|job| scope.spawn(job)).collect();
        let mut results =
            vec![catch_unwind(AssertUnwindSafe(first)).unwrap_or_else(|p| Err(panic_error(p)))];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| Err(panic_error(p)))),
        );
        results
    });
    tch::set_num_threads(before);
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_batch_in_order() {
        assert_eq!(split(64, 2), vec![(0, 32), (32, 32)]);
        assert_eq!(split(65, 3), vec![(0, 22), (22, 22), (44, 21)]);
        assert_eq!(split(3, 8), vec![(0, 1), (1, 1), (2, 1)]);
        assert_eq!(split(10, 1), vec![(0, 10)]);
    }

    #[test]
    fn replicas_are_one_per_thread_with_enough_examples_each() {
        assert_eq!(auto_replicas(Device::Cuda(0), 256), 1);
        assert_eq!(auto_replicas(Device::Cpu, 8), 1);
    }

    #[test]
    fn a_panicking_replica_is_an_error() {
        let jobs: Vec<Job<'_, i32>> = vec![Box::new(|| panic!("boom"))];
        let err = run_parallel(|| Ok(1), jobs).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        let jobs: Vec<Job<'_, i32>> = vec![Box::new(|| Ok(2)), Box::new(|| Ok(3))];
        assert_eq!(run_parallel(|| Ok(1), jobs).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn tied_weights_share_storage_and_gradients_add_up() {
        let a = nn::VarStore::new(Device::Cpu);
        let b = nn::VarStore::new(Device::Cpu);
        let wa = a.root().randn("w", &[3], 0.0, 1.0);
        let wb = b.root().randn("w", &[3], 0.0, 1.0);
        let _ra = a.root().zeros_no_train("running_mean", &[3]);
        let rb = b.root().ones_no_train("running_mean", &[3]);
        let tied = TiedWeights::tie(&a, &b).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(&wa).unwrap(),
            Vec::<f32>::try_from(&wb).unwrap()
        );
        let _ = tch::no_grad(|| wa.shallow_clone().fill_(2.0));
        assert_eq!(Vec::<f32>::try_from(&wb).unwrap(), vec![2.0; 3]);
        // Running statistics stay the replica's own.
        assert_eq!(Vec::<f32>::try_from(&rb).unwrap(), vec![1.0; 3]);
        (&wb * 3.0).sum(tch::Kind::Float).backward();
        tied.reduce_grads(); // the original had no gradient yet
        (&wa * 1.0).sum(tch::Kind::Float).backward();
        (&wb * 3.0).sum(tch::Kind::Float).backward();
        tied.reduce_grads();
        assert_eq!(Vec::<f32>::try_from(&wa.grad()).unwrap(), vec![7.0; 3]);
        assert_eq!(Vec::<f32>::try_from(&wb.grad()).unwrap(), vec![0.0; 3]);
    }
}
