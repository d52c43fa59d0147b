//! The ProxylessNAS / MobileNetV3-style chain space: a stem, four stages of MBConv
//! blocks, and a 1×1 head. Every block chooses its kernel (3/5/7, `s{i}_b{j}_k`) and
//! expansion ratio (3/6, `s{i}_b{j}_e`) as value choices with shared weights; every
//! stage chooses its depth (`s{i}_depth`, 1 to `max_depth`; deeper blocks are
//! skipped, the zero op of ProxylessNAS). Stages widen to 1.5, 2.5, 5 and 6 × `width`
//! channels; the first three halve the resolution.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::{Builder, Repeat},
    error::Result,
    nn::{
        conv2d,
        ops::{stem, BatchNorm},
        Block, BoxBlock, Conv2dConfig, Ctx, Linear, MbConv, PooledClassifier, Sequential,
    },
};
use tch::{nn, Tensor};

/// The ProxylessNAS space.
pub struct ProxylessNas;

inventory::submit!(SpaceEntry(&ProxylessNas));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "16",
        help: "stem channels; stages have 1.5, 2.5, 5 and 6 times as many",
        training_only: false,
    },
    SpaceOption {
        name: "max_depth",
        default: "4",
        help: "most MBConv blocks per stage",
        training_only: false,
    },
];

/// Kernel sizes and expansion ratios of a block.
pub const KERNELS: [i64; 3] = [3, 5, 7];
/// Expansion ratios of a block.
pub const RATIOS: [i64; 2] = [3, 6];

/// ReLU6.
#[derive(Debug)]
struct Relu6;

impl Block for Relu6 {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Result<Tensor> {
        Ok(xs.relu6())
    }
}

impl SpaceFamily for ProxylessNas {
    fn name(&self) -> &'static str {
        "proxylessnas"
    }
    fn description(&self) -> &'static str {
        "ProxylessNAS/MobileNetV3 chain: MBConv kernel 3/5/7 and expansion 3/6 per block, depth per stage"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let w = int_option(o, "proxylessnas", "width", 16, 2)?;
        let max_depth = int_option(o, "proxylessnas", "max_depth", 4, 1)? as usize;
        let stem = stem(p, cfg.input_channels, w).push(Relu6);
        let stages_spec = [(w * 3 / 2, 2), (w * 5 / 2, 2), (w * 5, 2), (w * 6, 1)];
        let depths: Vec<usize> = (1..=max_depth).collect();
        let mut stages = Vec::new();
        let mut c_prev = w;
        for (i, &(c, stride)) in stages_spec.iter().enumerate() {
            let sp = p / "stages" / i as i64;
            let first_in = c_prev;
            b.set_group(Some(&format!("s{i}")));
            stages.push(Repeat::new(
                b,
                &sp,
                &format!("stages.{i}"),
                &format!("s{i}_depth"),
                &depths,
                |j, bp| {
                    let (c_in, s) = if j == 0 { (first_in, stride) } else { (c, 1) };
                    Ok(Box::new(MbConv::new(
                        b,
                        bp,
                        &format!("stages.{i}.{j}"),
                        &format!("s{i}_b{j}"),
                        c_in,
                        c,
                        s,
                        &KERNELS,
                        &RATIOS,
                    )?) as BoxBlock)
                },
            )?);
            c_prev = c;
        }
        let head_c = 8 * w;
        let head = Sequential::new()
            .push(conv2d(
                &(p / "head" / "conv"),
                c_prev,
                head_c,
                1,
                Conv2dConfig::default(),
            ))
            .push(BatchNorm::new(&(p / "head" / "bn"), head_c, true))
            .push(Relu6);
        let features = stages
            .into_iter()
            .fold(stem, |seq, stage| seq.push(stage))
            .push(head);
        Ok(Box::new(PooledClassifier::new(
            features,
            Linear::new(&(p / "classifier"), head_c, cfg.num_classes),
        )))
    }
}
