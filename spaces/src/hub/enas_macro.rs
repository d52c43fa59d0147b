//! ENAS macro space (Pham et al. 2018), as in NNI: a stem, `layers` layers of
//! `width` channels, each choosing one of 6 operations (`layer_{k}`: 3×3/5×5 conv,
//! 3×3/5×5 separable conv, 3×3 avg/max pool) on the previous layer's output and any
//! subset of the earlier outputs as skip connections (`skip_{k}`, summed); after
//! layers `layers/3 - 1` and `2·layers/3 - 1` every output so far is halved in
//! resolution by a shared factorized reduction.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::{Builder, InputChoice, LayerChoice, Reduction},
    error::{Result, SpacesError},
    nn::{
        conv2d,
        ops::{stem, BatchNorm, FactorizedReduce, Pool, Relu},
        Block, BoxBlock, Conv2dConfig, Ctx, Linear, Sequential,
    },
};
use tch::{nn, Tensor};

/// The ENAS macro space.
pub struct EnasMacro;

inventory::submit!(SpaceEntry(&EnasMacro));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "24",
        help: "channels of every layer (out_filters)",
        training_only: false,
    },
    SpaceOption {
        name: "layers",
        default: "12",
        help: "number of searched layers",
        training_only: false,
    },
];

/// The 6 operations of a layer.
pub const ENAS_MACRO_OPS: [&str; 6] = [
    "conv_3x3",
    "sep_conv_3x3",
    "conv_5x5",
    "sep_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
];

/// 1×1 conv → BN (not affine) → ReLU.
fn std_conv(p: &nn::Path, c_in: i64, c_out: i64) -> Sequential {
    Sequential::new()
        .push(conv2d(
            &(p / "conv"),
            c_in,
            c_out,
            1,
            Conv2dConfig::default(),
        ))
        .push(BatchNorm::new(&(p / "bn"), c_out, false))
        .push(Relu)
}

fn branch(name: &str, p: &nn::Path, c: i64) -> Result<BoxBlock> {
    let conv = |k: i64, separable: bool| -> BoxBlock {
        let body = if separable {
            Sequential::new()
                .push(conv2d(
                    &(p / "depthwise"),
                    c,
                    c,
                    k,
                    Conv2dConfig {
                        padding: k / 2,
                        groups: c,
                        ..Default::default()
                    },
                ))
                .push(conv2d(&(p / "pointwise"), c, c, 1, Conv2dConfig::default()))
        } else {
            Sequential::new().push(conv2d(
                &(p / "conv"),
                c,
                c,
                k,
                Conv2dConfig {
                    padding: k / 2,
                    ..Default::default()
                },
            ))
        };
        Box::new(
            std_conv(&(p / "pre"), c, c)
                .push(body)
                .push(BatchNorm::new(&(p / "bn"), c, false))
                .push(Relu),
        )
    };
    let pool = |pool: Pool| -> BoxBlock {
        Box::new(std_conv(&(p / "pre"), c, c).push(pool).push(BatchNorm::new(
            &(p / "bn"),
            c,
            false,
        )))
    };
    Ok(match name {
        "conv_3x3" => conv(3, false),
        "sep_conv_3x3" => conv(3, true),
        "conv_5x5" => conv(5, false),
        "sep_conv_5x5" => conv(5, true),
        "avg_pool_3x3" => pool(Pool::avg(3, 1)),
        "max_pool_3x3" => pool(Pool::max(3, 1)),
        other => {
            return Err(SpacesError::Config(format!(
                "unknown ENAS macro operation {other:?}"
            )))
        }
    })
}

impl SpaceFamily for EnasMacro {
    fn name(&self) -> &'static str {
        "enas-macro"
    }
    fn description(&self) -> &'static str {
        "ENAS macro space: 12 layers × 6 ops, any skip connections to earlier layers"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let c = int_option(o, "enas-macro", "width", 24, 2)?;
        let n = int_option(o, "enas-macro", "layers", 12, 1)?;
        let stem = stem(p, cfg.input_channels, c);
        let pool_after = [n / 3 - 1, 2 * (n / 3) - 1];
        let mut layers = Vec::new();
        let mut reductions = Vec::new();
        let mut names = vec!["stem".to_string()];
        for k in 0..n {
            let lp = p / "layers" / k;
            let op = LayerChoice::new(
                b,
                &(&lp / "op"),
                &format!("layers.{k}.op"),
                &format!("layer_{k}"),
                &ENAS_MACRO_OPS,
                |name, path| branch(name, path, c),
            )?;
            // Skip connections from every output before the previous one.
            let skip = if k > 0 {
                Some(InputChoice::new(
                    b,
                    &format!("layers.{k}.skip"),
                    &format!("skip_{k}"),
                    &names[..k as usize],
                    None,
                    Reduction::Sum,
                )?)
            } else {
                None
            };
            layers.push(EnasLayer {
                op,
                skip,
                bn: BatchNorm::new(&(&lp / "bn"), c, false),
            });
            names.push(format!("layer{k}"));
            if pool_after.contains(&k) {
                reductions.push((k, FactorizedReduce::new(&(p / "reduce" / k), c, c, true)));
            }
        }
        Ok(Box::new(EnasMacroNetwork {
            stem,
            layers,
            reductions,
            classifier: Linear::new(&(p / "classifier"), c, cfg.num_classes),
        }))
    }
}

#[derive(Debug)]
struct EnasLayer {
    op: LayerChoice,
    skip: Option<InputChoice>,
    bn: BatchNorm,
}

#[derive(Debug)]
struct EnasMacroNetwork {
    stem: Sequential,
    layers: Vec<EnasLayer>,
    reductions: Vec<(i64, FactorizedReduce)>,
    classifier: Linear,
}

impl Block for EnasMacroNetwork {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let mut outputs = vec![self.stem.forward(xs, ctx)?];
        for (k, layer) in self.layers.iter().enumerate() {
            let last = outputs.last().expect("the stem output is first");
            let mut out = layer.op.forward(last, ctx)?;
            if let Some(skip) = &layer.skip {
                let (active, weights) = skip.active(ctx);
                let chosen: Vec<Tensor> =
                    active.iter().map(|&i| outputs[i].shallow_clone()).collect();
                if let Some(s) = skip.reduce(chosen, weights.as_ref()) {
                    // Not `+=`: that adds in place, into a ReLU output autograd still needs.
                    #[allow(clippy::assign_op_pattern)]
                    {
                        out = out + s;
                    }
                }
            }
            outputs.push(layer.bn.forward(&out, ctx)?);
            if let Some((_, reduce)) = self.reductions.iter().find(|(after, _)| *after == k as i64)
            {
                outputs = outputs
                    .iter()
                    .map(|t| reduce.forward(t, ctx))
                    .collect::<Result<_>>()?;
            }
        }
        let last = outputs.pop().expect("at least the stem");
        self.classifier
            .forward(&last.adaptive_avg_pool2d([1, 1]).flatten(1, -1), ctx)
    }
}
