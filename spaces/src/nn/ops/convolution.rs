//! The convolution family of the cell spaces: the stem, ReLU-conv-BN, DARTS's dilated
//! and separable convolutions, NASNet's factorised k×k, and the factorised reduction.

use super::{BatchNorm, Relu};
use crate::{
    error::Result,
    nn::{conv2d, Block, Conv2d, Conv2dConfig, Ctx, Sequential},
};
use tch::{nn, Tensor};

/// The 3×3 stem of every image space: conv (`p/stem/conv`) → BN (`p/stem/bn`, affine).
pub fn stem(p: &nn::Path, c_in: i64, c_out: i64) -> Sequential {
    Sequential::new()
        .push(conv2d(
            &(p / "stem" / "conv"),
            c_in,
            c_out,
            3,
            Conv2dConfig {
                padding: 1,
                ..Default::default()
            },
        ))
        .push(BatchNorm::new(&(p / "stem" / "bn"), c_out, true))
}

/// ReLU → conv → BN.
pub fn relu_conv_bn(
    p: &nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
    affine: bool,
) -> Sequential {
    Sequential::new()
        .push(Relu)
        .push(conv2d(
            &(p / "conv"),
            c_in,
            c_out,
            kernel,
            Conv2dConfig {
                stride,
                padding,
                ..Default::default()
            },
        ))
        .push(BatchNorm::new(&(p / "bn"), c_out, affine))
}

/// DARTS's dilated separable convolution: ReLU → depthwise (dilated) → pointwise → BN.
#[allow(clippy::too_many_arguments)] // the reference code's signature
pub fn dil_conv(
    p: &nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
    dilation: i64,
    affine: bool,
) -> Sequential {
    Sequential::new()
        .push(Relu)
        .push(conv2d(
            &(p / "depthwise"),
            c_in,
            c_in,
            kernel,
            Conv2dConfig {
                stride,
                padding,
                dilation,
                groups: c_in,
                ..Default::default()
            },
        ))
        .push(conv2d(
            &(p / "pointwise"),
            c_in,
            c_out,
            1,
            Conv2dConfig::default(),
        ))
        .push(BatchNorm::new(&(p / "bn"), c_out, affine))
}

/// DARTS's separable convolution: two dilated-conv units (of dilation `dilation`),
/// the first with the stride.
#[allow(clippy::too_many_arguments)] // the reference code's signature
pub fn sep_conv(
    p: &nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
    dilation: i64,
    affine: bool,
) -> Sequential {
    Sequential::new()
        .push(dil_conv(
            &(p / "unit1"),
            c_in,
            c_in,
            kernel,
            stride,
            padding,
            dilation,
            affine,
        ))
        .push(dil_conv(
            &(p / "unit2"),
            c_in,
            c_out,
            kernel,
            1,
            padding,
            dilation,
            affine,
        ))
}

/// ReLU → 1×k conv → k×1 conv → BN (NASNet's factorised k×k convolution).
pub fn conv_1xk_kx1(p: &nn::Path, c: i64, k: i64, stride: i64, affine: bool) -> Sequential {
    Sequential::new()
        .push(Relu)
        .push(Conv2d::rect(
            &(p / "conv1xk"),
            c,
            c,
            [1, k],
            [1, stride],
            [0, k / 2],
        ))
        .push(Conv2d::rect(
            &(p / "convkx1"),
            c,
            c,
            [k, 1],
            [stride, 1],
            [k / 2, 0],
        ))
        .push(BatchNorm::new(&(p / "bn"), c, affine))
}

/// Halves the resolution with two offset stride-2 1×1 convolutions, concatenated.
#[derive(Debug)]
pub struct FactorizedReduce {
    conv1: Conv2d,
    conv2: Conv2d,
    bn: BatchNorm,
}

impl FactorizedReduce {
    /// `c_in → c_out` channels (`c_out` even), half the height and width.
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64, affine: bool) -> Self {
        FactorizedReduce {
            conv1: conv2d(
                &(p / "conv1"),
                c_in,
                c_out / 2,
                1,
                Conv2dConfig {
                    stride: 2,
                    ..Default::default()
                },
            ),
            conv2: conv2d(
                &(p / "conv2"),
                c_in,
                c_out - c_out / 2,
                1,
                Conv2dConfig {
                    stride: 2,
                    ..Default::default()
                },
            ),
            bn: BatchNorm::new(&(p / "bn"), c_out, affine),
        }
    }
}

impl Block for FactorizedReduce {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let x = crate::nn::taps::relu(xs);
        // The shifted branch is padded back to the full size so that odd sizes work.
        let shifted = x
            .slice(2, 1, None, 1)
            .slice(3, 1, None, 1)
            .constant_pad_nd([0, 1, 0, 1]);
        let out = Tensor::cat(
            &[
                self.conv1.forward(&x, ctx)?,
                self.conv2.forward(&shifted, ctx)?,
            ],
            1,
        );
        self.bn.forward(&out, ctx)
    }
}
