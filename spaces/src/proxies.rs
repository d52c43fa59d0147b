//! Zero-cost proxies: scores of an *untrained* child from one minibatch, meant to
//! rank architectures without training them (Abdelfattah et al., "Zero-Cost Proxies
//! for Lightweight NAS", ICLR 2021; Mellor et al. 2021 for jacob_cov), next to the
//! plain baselines (parameters, multiply-adds). Higher is better for every score.
//!
//! - `grad_norm`: Σ over weights of ‖∂L/∂w‖₂ (cross-entropy on the minibatch).
//! - `snip`: Σ |w ⊙ ∂L/∂w| (connection sensitivity).
//! - `synflow`: with every weight replaced by its absolute value, double precision,
//!   batch norm in evaluation mode at its initial statistics (so it scales by 1) and
//!   an all-ones input of one example, R = Σ outputs; score Σ |w ⊙ ∂R/∂w|. Data-free.
//! - `jacob_cov`: the correlation matrix of the per-example input Jacobians of Σ
//!   outputs; score −Σᵢ [log(λᵢ + k) + 1/(λᵢ + k)], k = 1e-5.
//! - `naswot` (Mellor et al., ICML 2021): each example's binary code — which units of
//!   every ReLU are active —, the kernel K = C Cᵀ + (1 − C)(1 − C)ᵀ of code agreements
//!   over the minibatch, score log |det (K + I)|: networks that tell the examples apart
//!   score higher (the identity keeps a network that cannot tell two examples apart —
//!   a singular K — finite and ranked low, instead of failing).
//! - `fisher` (Turner et al. 2020, as in Abdelfattah et al.): over every ReLU output a
//!   with the gradient g of the cross-entropy, Σ over channels of ½ · mean over examples
//!   of (Σ over positions a·g)².
//!
//! Every score leaves the child's variables as they were.

use crate::{Child, Result, SpacesError};
use tch::{Kind, Tensor};

/// A zero-cost proxy or baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// Number of parameters.
    Params,
    /// Multiply-adds per example.
    Flops,
    /// Sum of the weights' gradient norms.
    GradNorm,
    /// Connection sensitivity.
    Snip,
    /// Synaptic flow (data-free).
    Synflow,
    /// Correlation of input Jacobians.
    JacobCov,
    /// Log-determinant of the ReLU codes' agreement kernel.
    Naswot,
    /// Fisher information of the ReLU activations.
    Fisher,
}

impl Proxy {
    /// Every proxy, baselines first.
    pub const ALL: [Proxy; 8] = [
        Proxy::Params,
        Proxy::Flops,
        Proxy::GradNorm,
        Proxy::Snip,
        Proxy::Synflow,
        Proxy::JacobCov,
        Proxy::Naswot,
        Proxy::Fisher,
    ];

    /// The proxy's name.
    pub fn name(self) -> &'static str {
        match self {
            Proxy::Params => "params",
            Proxy::Flops => "flops",
            Proxy::GradNorm => "grad_norm",
            Proxy::Snip => "snip",
            Proxy::Synflow => "synflow",
            Proxy::JacobCov => "jacob_cov",
            Proxy::Naswot => "naswot",
            Proxy::Fisher => "fisher",
        }
    }

    /// The proxy called `name`.
    pub fn from_name(name: &str) -> Result<Proxy> {
        Proxy::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                SpacesError::Config(format!(
                    "no proxy named {name:?} (known: {})",
                    Proxy::ALL.map(Proxy::name).join(", ")
                ))
            })
    }
}

/// Scores `child` (untrained) by `proxy` on the minibatch `xs` (float images) and
/// labels `ys`. Every variable (weights and batch-norm statistics) is restored after.
pub fn score(child: &mut Child, proxy: Proxy, xs: &Tensor, ys: &Tensor) -> Result<f64> {
    let saved: Vec<(String, Tensor)> = child
        .var_store()
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.detach().copy()))
        .collect();
    let result = score_inner(child, proxy, xs, ys);
    child.var_store_mut().float();
    let vars = child.var_store().variables();
    tch::no_grad(|| {
        for (name, copy) in &saved {
            vars[name].shallow_clone().copy_(copy);
        }
    });
    result
}

fn score_inner(child: &mut Child, proxy: Proxy, xs: &Tensor, ys: &Tensor) -> Result<f64> {
    match proxy {
        Proxy::Params => Ok(child.params() as f64),
        Proxy::Flops => Ok(child.flops_for(&xs.narrow(0, 0, 1)) as f64),
        Proxy::GradNorm | Proxy::Snip => {
            let weights = child.var_store().trainable_variables();
            zero_grads(&weights);
            let loss = child.forward(xs, true)?.cross_entropy_for_logits(ys);
            loss.backward();
            let total = tch::no_grad(|| {
                weights
                    .iter()
                    .filter(|w| w.grad().defined())
                    .map(|w| match proxy {
                        Proxy::GradNorm => w.grad().norm().double_value(&[]),
                        _ => (w * w.grad()).abs().sum(Kind::Double).double_value(&[]),
                    })
                    .sum::<f64>()
            });
            zero_grads(&weights);
            Ok(total)
        }
        Proxy::Synflow => synflow(child, xs),
        Proxy::JacobCov => jacob_cov(child, xs),
        Proxy::Naswot => naswot(child, xs),
        Proxy::Fisher => fisher(child, xs, ys),
    }
}

fn naswot(child: &Child, xs: &Tensor) -> Result<f64> {
    let (out, taps) = crate::nn::taps::record(|| tch::no_grad(|| child.forward(xs, false)));
    out.map(drop)?;
    if taps.is_empty() {
        return Err(SpacesError::Config(
            "naswot: the network has no ReLU to read codes from".into(),
        ));
    }
    let n = xs.size()[0];
    let codes = Tensor::cat(
        &taps
            .iter()
            .map(|t| t.reshape([n, -1]).gt(0.0).to_kind(Kind::Double))
            .collect::<Vec<_>>(),
        1,
    );
    let off = codes.ones_like() - &codes;
    let k = codes.matmul(&codes.transpose(0, 1))
        + off.matmul(&off.transpose(0, 1))
        + Tensor::eye(n, (Kind::Double, codes.device()));
    let (_, logdet) = Tensor::linalg_slogdet(&k);
    Ok(logdet.double_value(&[]))
}

fn fisher(child: &mut Child, xs: &Tensor, ys: &Tensor) -> Result<f64> {
    let (out, taps) = crate::nn::taps::record(|| child.forward(xs, true));
    let loss = out?.cross_entropy_for_logits(ys);
    let taps: Vec<Tensor> = taps.into_iter().filter(|t| t.requires_grad()).collect();
    if taps.is_empty() {
        return Err(SpacesError::Config(
            "fisher: the network has no ReLU whose activations the loss depends on".into(),
        ));
    }
    let grads = Tensor::run_backward(&[&loss], &taps, false, false);
    let total = tch::no_grad(|| {
        taps.iter()
            .zip(&grads)
            .filter(|(_, g)| g.defined())
            .map(|(a, g)| {
                let per_channel = match a.dim() {
                    4 => (a * g).sum_dim_intlist([2, 3].as_slice(), false, Kind::Double),
                    3 => (a * g).sum_dim_intlist([2].as_slice(), false, Kind::Double),
                    _ => (a * g).to_kind(Kind::Double),
                };
                (per_channel
                    .pow_tensor_scalar(2)
                    .mean_dim(0, false, Kind::Double)
                    * 0.5)
                    .sum(Kind::Double)
                    .double_value(&[])
            })
            .sum::<f64>()
    });
    zero_grads(&child.var_store().trainable_variables());
    Ok(total)
}

fn zero_grads(weights: &[Tensor]) {
    for w in weights {
        let mut g = w.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

fn synflow(child: &mut Child, xs: &Tensor) -> Result<f64> {
    child.var_store_mut().double();
    let weights = child.var_store().trainable_variables();
    tch::no_grad(|| {
        for w in &weights {
            let _ = w.shallow_clone().abs_();
        }
        // Batch norm at its initial statistics: evaluation mode then scales by 1.
        for (name, stat) in child.var_store().variables() {
            if name.ends_with("running_mean") {
                let _ = stat.shallow_clone().zero_();
            } else if name.ends_with("running_var") {
                let _ = stat.shallow_clone().fill_(1.0);
            }
        }
    });
    zero_grads(&weights);
    let mut shape = xs.size();
    shape[0] = 1;
    let ones = Tensor::ones(shape.as_slice(), (Kind::Double, xs.device()));
    let result = child.forward(&ones, false).map(|out| {
        out.sum(Kind::Double).backward();
        tch::no_grad(|| {
            weights
                .iter()
                .filter(|w| w.grad().defined())
                .map(|w| (w * w.grad()).abs().sum(Kind::Double).double_value(&[]))
                .sum::<f64>()
        })
    });
    zero_grads(&weights);
    result
}

fn jacob_cov(child: &mut Child, xs: &Tensor) -> Result<f64> {
    let input = xs.detach().copy().set_requires_grad(true);
    let out = child.forward(&input, false)?;
    out.sum(Kind::Float).backward();
    let n = xs.size()[0];
    let jacobians = input.grad().reshape([n, -1]).to_kind(Kind::Double);
    zero_grads(&child.var_store().trainable_variables());
    let centred = &jacobians - jacobians.mean_dim(1, true, Kind::Double);
    let norms = centred.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12);
    let unit = &centred / norms;
    let corr = unit.matmul(&unit.transpose(0, 1));
    let eig = corr.linalg_eigvalsh("L");
    let k = 1e-5;
    let shifted = eig + k;
    let score = -(shifted.log() + shifted.reciprocal())
        .sum(Kind::Double)
        .double_value(&[]);
    if score.is_finite() {
        Ok(score)
    } else {
        Err(SpacesError::Config(
            "jacob_cov: the Jacobians' correlation matrix is degenerate".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{space, SpaceConfig};
    use archon_plugin_api::Options;
    use tch::Device;

    /// A NAS-Bench-201 child (width 4, one cell per stage) with every edge `op`.
    fn nb201(op: (&str, usize)) -> Child {
        let cfg = SpaceConfig {
            options: Options::from_json_str(r#"{"width": 4, "cells_per_stage": 1}"#).unwrap(),
            ..SpaceConfig::default()
        };
        let mut arch = serde_json::Map::new();
        for (to, from) in [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)] {
            arch.insert(
                format!("edge_{to}_{from}"),
                serde_json::json!({"_value": op.0, "_idx": op.1}),
            );
        }
        tch::manual_seed(7);
        Child::build(
            space("nas-bench-201").unwrap(),
            &cfg,
            &serde_json::Value::Object(arch),
            Device::Cpu,
        )
        .unwrap()
    }

    fn batch(seed: i64) -> (Tensor, Tensor) {
        tch::manual_seed(seed);
        (
            Tensor::rand([16, 1, 28, 28], (Kind::Float, Device::Cpu)),
            Tensor::randint(10, [16], (Kind::Int64, Device::Cpu)),
        )
    }

    fn snapshot(child: &Child) -> Vec<(String, Tensor)> {
        let mut vars: Vec<(String, Tensor)> = child
            .var_store()
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().copy()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    #[test]
    fn scores_leave_the_child_as_it_was_and_repeat_exactly() {
        let mut child = nb201(("nor_conv_3x3", 3));
        let (xs, ys) = batch(1);
        let before = snapshot(&child);
        let first: Vec<f64> = Proxy::ALL
            .iter()
            .map(|&p| score(&mut child, p, &xs, &ys).unwrap())
            .collect();
        let after = snapshot(&child);
        for ((name, a), (_, b)) in before.iter().zip(&after) {
            assert_eq!(a.kind(), b.kind(), "{name}");
            assert!(a.equal(b), "{name} changed");
        }
        let second: Vec<f64> = Proxy::ALL
            .iter()
            .map(|&p| score(&mut child, p, &xs, &ys).unwrap())
            .collect();
        assert_eq!(first, second);
        assert_eq!(first[0], child.params() as f64);
        assert!(first.iter().skip(2).take(3).all(|&s| s > 0.0), "{first:?}");
    }

    #[test]
    fn synflow_is_data_free_and_grows_with_the_weights() {
        let mut child = nb201(("nor_conv_3x3", 3));
        let (a, ya) = batch(1);
        let (b, yb) = batch(2);
        let sa = score(&mut child, Proxy::Synflow, &a, &ya).unwrap();
        assert_eq!(sa, score(&mut child, Proxy::Synflow, &b, &yb).unwrap());
        // Doubling every weight of a network with L weighted layers on the path
        // multiplies R by 2^L and each |w ⊙ ∂R/∂w| term by 2^L as well: more.
        tch::no_grad(|| {
            for w in child.var_store().trainable_variables() {
                let _ = w.shallow_clone().g_mul_scalar_(2.0);
            }
        });
        let doubled = score(&mut child, Proxy::Synflow, &a, &ya).unwrap();
        assert!(doubled > 2.0 * sa, "{sa} → {doubled}");
        // A cell of parameter-free operations has fewer weights on every path.
        let mut pooling = nb201(("avg_pool_3x3", 4));
        assert!(score(&mut pooling, Proxy::Synflow, &a, &ya).unwrap() < sa);
    }

    #[test]
    fn jacob_cov_rewards_telling_inputs_apart() {
        let mut child = nb201(("nor_conv_3x3", 3));
        let (xs, ys) = batch(3);
        let distinct = score(&mut child, Proxy::JacobCov, &xs, &ys).unwrap();
        // The same image 16 times: identical Jacobians, a rank-one correlation matrix.
        let same = xs.narrow(0, 0, 1).repeat([16, 1, 1, 1]);
        let repeated = score(&mut child, Proxy::JacobCov, &same, &ys).unwrap();
        assert!(distinct > repeated, "{distinct} vs {repeated}");
    }

    #[test]
    fn naswot_rewards_telling_inputs_apart() {
        let mut child = nb201(("nor_conv_3x3", 3));
        let (xs, ys) = batch(4);
        let distinct = score(&mut child, Proxy::Naswot, &xs, &ys).unwrap();
        assert!(distinct.is_finite());
        // Half the batch a copy of the other half: examples the network cannot tell
        // apart (a singular code kernel) score far lower, but finitely.
        let half = xs.narrow(0, 0, 8);
        let doubled = Tensor::cat(&[&half, &half.shallow_clone()], 0);
        let low = score(&mut child, Proxy::Naswot, &doubled, &ys).unwrap();
        assert!(
            low.is_finite() && low < distinct - 10.0,
            "{low} vs {distinct}"
        );
    }

    #[test]
    fn fisher_is_positive_and_grows_with_the_loss_s_sensitivity() {
        let mut child = nb201(("nor_conv_3x3", 3));
        let (xs, ys) = batch(5);
        let f = score(&mut child, Proxy::Fisher, &xs, &ys).unwrap();
        assert!(f > 0.0 && f.is_finite(), "{f}");
        // Scaling the input scales every pre-activation and the gradients stay: the
        // activations grow, and so does Fisher's product a·g.
        let g = score(&mut child, Proxy::Fisher, &(&xs * 10.0), &ys).unwrap();
        assert!(g != f, "{f} vs {g}");
    }

    #[test]
    fn proxies_are_named() {
        for p in Proxy::ALL {
            assert_eq!(Proxy::from_name(p.name()).unwrap(), p);
        }
        let e = Proxy::from_name("zen").unwrap_err().to_string();
        assert!(e.contains("zen") && e.contains("synflow"), "{e}");
    }
}
