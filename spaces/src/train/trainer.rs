//! The training loop: SGD (or AdamW) with weight decay, cosine learning rate with
//! warm-up, gradient clipping, augmentation, label smoothing, a weight average;
//! evaluation by accuracy.

use super::{Augment, LrSchedule, OptimizerKind, Recipe, WeightAverage};
use crate::{data::Dataset, error::Result, Child};
use std::time::Instant;
use tch::{nn, nn::OptimizerConfig, Kind, Reduction, Tensor};

/// Hyper-parameters of child training (defaults as DARTS retraining, shorter).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training data (the length of the learning-rate schedule).
    pub epochs: usize,
    /// The first epoch to run (a run continued from a checkpoint of epoch
    /// `start_epoch`): the schedule and the shuffles go on where they were.
    pub start_epoch: usize,
    /// Stop before this epoch (none: `epochs`): a budget shorter than the schedule.
    pub stop_epoch: Option<usize>,
    /// Examples per step.
    pub batch_size: i64,
    /// Initial learning rate.
    pub lr: f64,
    /// Final learning rate of the cosine schedule.
    pub lr_min: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Optimizer, schedule shape, weight decay, label smoothing, weight average.
    pub recipe: Recipe,
    /// Gradient-norm clip (0: off).
    pub grad_clip: f64,
    /// Augmentations of training batches.
    pub augment: Augment,
    /// Drop-path probability at the last epoch (raised linearly from 0, as in DARTS).
    pub drop_path: f64,
    /// Weight of the auxiliary head's loss, for networks that have one.
    pub aux_weight: f64,
    /// Seed for shuffling and augmentation.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 1,
            start_epoch: 0,
            stop_epoch: None,
            batch_size: 64,
            lr: 0.025,
            lr_min: 0.0,
            momentum: 0.9,
            recipe: Recipe::classic(),
            grad_clip: 5.0,
            augment: Augment::default(),
            drop_path: 0.0,
            aux_weight: 0.4,
            seed: 0,
        }
    }
}

/// Where training is, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Epoch, from 0.
    pub epoch: usize,
    /// Step within the epoch, from 0.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// This step's loss.
    pub loss: f64,
}

/// What one epoch achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// Epoch, from 0.
    pub epoch: usize,
    /// The learning rate used.
    pub lr: f64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (on augmented batches).
    pub train_accuracy: f64,
    /// Accuracy on the validation data.
    pub valid_accuracy: f64,
    /// Accuracy on each of the further evaluation sets (see [`train_and_evaluate`]).
    pub other_accuracies: Vec<f64>,
    /// Wall-clock seconds of the epoch, evaluation included.
    pub seconds: f64,
}

/// What training tells its caller as it goes.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// A step finished.
    Step(Progress),
    /// An epoch finished (with its validation accuracy).
    Epoch(EpochReport),
}

/// Trains `child` on `train` and evaluates it on `valid` after every epoch.
pub fn train(
    child: &mut Child,
    train: &Dataset,
    valid: &Dataset,
    cfg: &TrainConfig,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<Vec<EpochReport>> {
    train_and_evaluate(child, train, valid, &[], cfg, on_event)
}

/// [`train`], also evaluating on each of `others` after every epoch (e.g. the test
/// set beside a validation set), reported in order in
/// [`EpochReport::other_accuracies`].
pub fn train_and_evaluate(
    child: &mut Child,
    train: &Dataset,
    valid: &Dataset,
    others: &[&Dataset],
    cfg: &TrainConfig,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<Vec<EpochReport>> {
    tch::manual_seed(cfg.seed as i64);
    let device = child.var_store().device();
    let recipe = &cfg.recipe;
    let mut opt = build_optimizer(child, cfg)?;
    let n = train.len() as i64;
    let steps = ((n + cfg.batch_size - 1) / cfg.batch_size).max(1) as usize;
    let schedule = LrSchedule {
        base: cfg.lr,
        min: cfg.lr_min,
        steps_per_epoch: steps,
        epochs: cfg.epochs,
        warmup_epochs: recipe.warmup_epochs,
        per_step: recipe.per_step_schedule,
    };
    let augment = Augment {
        erasing: recipe.erasing,
        ..cfg.augment
    };
    let mut average =
        (recipe.ema_decay > 0.0).then(|| WeightAverage::new(child.var_store(), recipe.ema_decay));
    let mut reports = Vec::with_capacity(cfg.epochs);
    for epoch in cfg.start_epoch..cfg.stop_epoch.unwrap_or(cfg.epochs).min(cfg.epochs) {
        let start = Instant::now();
        let progress = epoch as f64 / cfg.epochs.max(1) as f64;
        let order = crate::data::permutation(train.len(), cfg.seed.wrapping_add(epoch as u64));
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0i64, 0i64);
        for step in 0..steps {
            opt.set_lr(schedule.lr(epoch, step));
            let begin = step as i64 * cfg.batch_size;
            let idx = order.narrow(0, begin, cfg.batch_size.min(n - begin));
            let xs = augment
                .apply(&train.inputs.index_select(0, &idx))
                .to_device(device);
            let ys = train.labels.index_select(0, &idx).to_device(device);
            let (logits, aux) = child.forward_train(&xs, cfg.drop_path * progress)?;
            let loss = match aux {
                Some(aux) => {
                    loss_of(&logits, &ys, recipe.label_smoothing)
                        + loss_of(&aux, &ys, recipe.label_smoothing) * cfg.aux_weight
                }
                None => loss_of(&logits, &ys, recipe.label_smoothing),
            };
            if cfg.grad_clip > 0.0 {
                opt.backward_step_clip_norm(&loss, cfg.grad_clip);
            } else {
                opt.backward_step(&loss);
            }
            if let Some(average) = &mut average {
                average.update();
            }
            let loss = loss.double_value(&[]);
            loss_sum += loss * ys.size()[0] as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&ys)
                .sum(Kind::Int64)
                .int64_value(&[]);
            seen += ys.size()[0];
            on_event(TrainEvent::Step(Progress {
                epoch,
                step,
                steps,
                loss,
            }));
        }
        let eval_batch = cfg.batch_size.max(EVAL_BATCH);
        let evaluate_all = || -> Result<(f64, Vec<f64>)> {
            let valid_accuracy = evaluate(child, valid, eval_batch)?;
            let other_accuracies = others
                .iter()
                .map(|data| evaluate(child, data, eval_batch))
                .collect::<Result<Vec<_>>>()?;
            Ok((valid_accuracy, other_accuracies))
        };
        let (valid_accuracy, other_accuracies) = match &mut average {
            Some(average) => average.with_average(evaluate_all)?,
            None => evaluate_all()?,
        };
        let report = EpochReport {
            epoch,
            lr: schedule.lr(epoch, 0),
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            valid_accuracy,
            other_accuracies,
            seconds: start.elapsed().as_secs_f64(),
        };
        on_event(TrainEvent::Epoch(report.clone()));
        reports.push(report);
    }
    if let Some(average) = &mut average {
        // The averaged weights are the trained network from here on.
        average.swap();
    }
    Ok(reports)
}

/// Evaluation batches hold at least this many examples (no gradients are kept, so
/// large batches cost little memory and run faster).
const EVAL_BATCH: i64 = 1000;

/// The optimizer `cfg.recipe` names over `child`'s weights.
fn build_optimizer(child: &Child, cfg: &TrainConfig) -> Result<nn::Optimizer> {
    let wd = cfg.recipe.weight_decay;
    let vs = child.var_store();
    Ok(match cfg.recipe.optimizer {
        OptimizerKind::Sgd | OptimizerKind::Nesterov => nn::Sgd {
            momentum: cfg.momentum,
            dampening: 0.0,
            wd,
            nesterov: cfg.recipe.optimizer == OptimizerKind::Nesterov,
        }
        .build(vs, cfg.lr)?,
        OptimizerKind::AdamW => nn::AdamW {
            wd,
            ..nn::AdamW::default()
        }
        .build(vs, cfg.lr)?,
    })
}

/// Mean cross-entropy of `logits` `[N, K]` against labels `ys` `[N]`, with label
/// smoothing `smoothing`.
fn loss_of(logits: &Tensor, ys: &Tensor, smoothing: f64) -> Tensor {
    if smoothing > 0.0 {
        logits.cross_entropy_loss::<Tensor>(ys, None, Reduction::Mean, -100, smoothing)
    } else {
        logits.cross_entropy_for_logits(ys)
    }
}

/// Accuracy of `child` on `data` (evaluation mode, no gradients).
pub fn evaluate(child: &Child, data: &Dataset, batch_size: i64) -> Result<f64> {
    let device = child.var_store().device();
    let n = data.len() as i64;
    if n == 0 {
        return Ok(0.0);
    }
    let mut correct = 0i64;
    tch::no_grad(|| -> Result<()> {
        let mut begin = 0;
        while begin < n {
            let len = batch_size.min(n - begin);
            let xs = data.inputs.narrow(0, begin, len).to_device(device);
            let ys = data.labels.narrow(0, begin, len).to_device(device);
            let predicted = child.forward(&xs, false)?.argmax(-1, false);
            correct += predicted.eq_tensor(&ys).sum(Kind::Int64).int64_value(&[]);
            begin += len;
        }
        Ok(())
    })?;
    Ok(correct as f64 / n as f64)
}

/// Saves a child's weights as safetensors.
pub fn save_weights(child: &Child, path: &std::path::Path) -> Result<()> {
    Ok(child.var_store().save(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        data::{FashionMnist, Split},
        hub::{space, SpaceConfig},
    };
    use archon_plugin_api::Options;
    use tch::Device;

    #[test]
    fn a_small_darts_child_learns_fashion_mnist() {
        let cfg = SpaceConfig {
            options: Options::from_json_str(r#"{"width": 8, "cells": 3, "nodes": 2}"#).unwrap(),
            ..SpaceConfig::default()
        };
        let arch = serde_json::json!({
            "normal_n2_switch": {"_idx": [0, 1]}, "normal_n2_p0": {"_idx": 4}, "normal_n2_p1": {"_idx": 3},
            "normal_n3_switch": {"_idx": [1, 2]}, "normal_n3_p1": {"_idx": 6}, "normal_n3_p2": {"_idx": 4}, "normal_n3_p0": {"_idx": 0},
            "reduce_n2_switch": {"_idx": [0, 1]}, "reduce_n2_p0": {"_idx": 1}, "reduce_n2_p1": {"_idx": 4},
            "reduce_n3_switch": {"_idx": [0, 2]}, "reduce_n3_p0": {"_idx": 3}, "reduce_n3_p1": {"_idx": 0}, "reduce_n3_p2": {"_idx": 4}
        });
        tch::manual_seed(0);
        let mut child = Child::build(space("darts").unwrap(), &cfg, &arch, Device::Cpu).unwrap();
        let train_set = FashionMnist::load(None, Split::Train)
            .unwrap()
            .into_dataset()
            .subset(3000, 1);
        let test_set = FashionMnist::load(None, Split::Test)
            .unwrap()
            .into_dataset()
            .subset(1000, 2);
        let tc = TrainConfig {
            epochs: 3,
            lr: 0.05,
            ..TrainConfig::default()
        };
        let mut steps = 0;
        let reports = train(&mut child, &train_set, &test_set, &tc, &mut |e| {
            if let TrainEvent::Step(_) = e {
                steps += 1;
            }
        })
        .unwrap();
        assert_eq!(steps, 3 * 47);
        assert!(reports[2].train_loss < reports[0].train_loss, "{reports:?}");
        // Chance is 10 %.
        assert!(reports[2].valid_accuracy > 0.5, "{reports:?}");
        let dir = std::env::temp_dir().join(format!("archon-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("child.safetensors");
        save_weights(&child, &path).unwrap();
        let mut again = Child::build(space("darts").unwrap(), &cfg, &arch, Device::Cpu).unwrap();
        again.var_store_mut().load(&path).unwrap();
        assert_eq!(
            evaluate(&again, &test_set, 500).unwrap(),
            reports[2].valid_accuracy
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_textnas_child_beats_the_majority_class_on_fortunes() {
        use crate::data::{TextTask, Vocab, FORTUNES_CLASSES, FORTUNES_DIR};
        let task =
            TextTask::fortunes(std::path::Path::new(FORTUNES_DIR), &FORTUNES_CLASSES).unwrap();
        let (train_task, test_task) = task.split(0.2, 3);
        let vocab = Vocab::build(&train_task.texts, 2, 8000);
        let (train_set, test_set) = (
            vocab.dataset(&train_task, 48),
            vocab.dataset(&test_task, 48),
        );
        let cfg = SpaceConfig {
            num_classes: task.classes.len() as i64,
            vocab_size: vocab.len() as i64,
            options: Options::from_json_str(r#"{"width": 32, "layers": 2}"#).unwrap(),
            ..SpaceConfig::default()
        };
        let arch = serde_json::json!({
            "op_0": {"_idx": 1}, "input_1": {"_idx": [0]}, "op_1": {"_idx": 5}, "skip_1": {"_idx": []}
        });
        tch::manual_seed(0);
        let mut child = Child::build(space("textnas").unwrap(), &cfg, &arch, Device::Cpu).unwrap();
        let tc = TrainConfig {
            epochs: 6,
            lr: 0.1,
            augment: crate::train::Augment {
                crop_padding: 0,
                flip: false,
                cutout: 0,
                erasing: 0.0,
            },
            ..TrainConfig::default()
        };
        let reports = train(&mut child, &train_set, &test_set, &tc, &mut |_| {}).unwrap();
        let baseline = test_task.majority_fraction();
        let accuracy = reports.last().unwrap().valid_accuracy;
        assert!(
            accuracy > baseline + 0.1,
            "accuracy {accuracy} vs majority baseline {baseline}: {reports:?}"
        );
    }
}
