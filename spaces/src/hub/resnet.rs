//! The hand-designed reference: the CIFAR ResNet of He et al. 2016 (§4.2) — a 3×3
//! stem, three stages of basic blocks at `width`, 2·`width`, 4·`width` channels (the
//! second and third halving the resolution, with 1×1 convolution shortcuts), global
//! pooling and a linear classifier. `width` 16 and 3 blocks a stage is ResNet-20
//! (0.27 M parameters); 5 blocks ResNet-32. It has no choices: one architecture, `{}`,
//! trained by the same recipe as a searched network to tell whether search beat hand
//! design.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::Builder,
    error::Result,
    nn::{
        conv2d, ops::BatchNorm, ops::Relu, Block, BoxBlock, Conv2d, Conv2dConfig, Ctx, Linear,
        PooledClassifier, Sequential,
    },
};
use tch::{nn, Tensor};

/// The ResNet reference space.
pub struct ResNet;

inventory::submit!(SpaceEntry(&ResNet));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "16",
        help: "channels of the first stage (doubled at each of the two reductions)",
        training_only: false,
    },
    SpaceOption {
        name: "blocks",
        default: "3",
        help: "basic blocks per stage: 3 is ResNet-20, 5 ResNet-32, 9 ResNet-56",
        training_only: false,
    },
];

impl SpaceFamily for ResNet {
    fn name(&self) -> &'static str {
        "resnet"
    }
    fn description(&self) -> &'static str {
        "hand-designed reference: CIFAR ResNet (He et al. 2016), ResNet-20 by default; no choices"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, _b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let width = int_option(o, "resnet", "width", 16, 1)?;
        let blocks = int_option(o, "resnet", "blocks", 3, 1)?;
        let conv = |p: &nn::Path, c_in, c_out, stride| {
            conv2d(
                p,
                c_in,
                c_out,
                3,
                Conv2dConfig {
                    stride,
                    padding: 1,
                    ..Default::default()
                },
            )
        };
        let mut features = Sequential::new()
            .push(conv(&(p / "stem" / "conv"), cfg.input_channels, width, 1))
            .push(BatchNorm::new(&(p / "stem" / "bn"), width, true))
            .push(Relu);
        let mut c_in = width;
        for stage in 0..3 {
            let c_out = width << stage;
            for block in 0..blocks {
                let q = p / "stages" / stage / block;
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                let shortcut = (stride != 1 || c_in != c_out).then(|| {
                    (
                        conv2d(
                            &(&q / "shortcut" / "conv"),
                            c_in,
                            c_out,
                            1,
                            Conv2dConfig {
                                stride,
                                ..Default::default()
                            },
                        ),
                        BatchNorm::new(&(&q / "shortcut" / "bn"), c_out, true),
                    )
                });
                features = features.push(BasicBlock {
                    body: Sequential::new()
                        .push(conv(&(&q / "conv_a"), c_in, c_out, stride))
                        .push(BatchNorm::new(&(&q / "bn_a"), c_out, true))
                        .push(Relu)
                        .push(conv(&(&q / "conv_b"), c_out, c_out, 1))
                        .push(BatchNorm::new(&(&q / "bn_b"), c_out, true)),
                    shortcut,
                });
                c_in = c_out;
            }
        }
        Ok(Box::new(PooledClassifier::new(
            features,
            Linear::new(&(p / "classifier"), c_in, cfg.num_classes),
        )))
    }
}

/// conv-BN-ReLU-conv-BN plus the input (or its 1×1-convolved projection), then ReLU.
#[derive(Debug)]
struct BasicBlock {
    body: Sequential,
    shortcut: Option<(Conv2d, BatchNorm)>,
}

impl Block for BasicBlock {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let residual = match &self.shortcut {
            Some((conv, bn)) => bn.forward(&conv.forward(xs, ctx)?, ctx)?,
            None => xs.shallow_clone(),
        };
        Ok((self.body.forward(xs, ctx)? + residual).relu())
    }
}
