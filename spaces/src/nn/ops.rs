//! The candidate operations of the published cell spaces (DARTS, NAS-Bench-201), as
//! in their papers' reference code.

use super::{scaled, Block, BoxBlock, Conv2d, Ctx, MixInput, Sequential};
use crate::error::{Result, SpacesError};
use tch::{nn, nn::ModuleT, Tensor};

/// Batch normalisation over channels.
#[derive(Debug)]
pub struct BatchNorm {
    inner: nn::BatchNorm,
    /// Its configuration (for [`Block::forward_mixed`], which calls the op itself).
    config: nn::BatchNormConfig,
}

impl BatchNorm {
    /// BN over `c` channels under `p`; `affine` adds a learnt scale and shift.
    pub fn new(p: &nn::Path, c: i64, affine: bool) -> Self {
        let config = nn::BatchNormConfig {
            affine,
            ..Default::default()
        };
        BatchNorm {
            inner: nn::batch_norm2d(p, c, config),
            config,
        }
    }

    /// BN over the `c` channels of sequences `[N, c, L]`.
    pub fn new_1d(p: &nn::Path, c: i64, affine: bool) -> Self {
        let config = nn::BatchNormConfig {
            affine,
            ..Default::default()
        };
        BatchNorm {
            inner: nn::batch_norm1d(p, c, config),
            config,
        }
    }
}

impl Block for BatchNorm {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Tensor {
        self.inner.forward_t(xs, ctx.train)
    }

    /// `scale · BN(x) = (scale·γ)·x̂ + scale·β`: the scale folds into the (per-channel)
    /// affine parameters instead of costing a pass over the output. The running
    /// statistics and the gradients are those of the unfolded form.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, ctx: &Ctx) -> Tensor {
        let Some(scale) = scale else {
            return self.forward(input.xs(), ctx);
        };
        let bn = &self.inner;
        let weight = match &bn.ws {
            Some(w) => w * scale,
            None => scale.expand_as(&bn.running_mean),
        };
        let bias = bn.bs.as_ref().map(|b| b * scale);
        input.xs().batch_norm(
            Some(&weight),
            bias.as_ref(),
            Some(&bn.running_mean),
            Some(&bn.running_var),
            ctx.train,
            self.config.momentum,
            self.config.eps,
            self.config.cudnn_enabled,
        )
    }
}

/// ReLU.
#[derive(Debug)]
pub struct Relu;

impl Block for Relu {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Tensor {
        xs.relu()
    }

    /// The input's shared ReLU.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, _: &Ctx) -> Tensor {
        scaled(input.relu().shallow_clone(), scale)
    }
}

/// The identity (`skip_connect` at stride 1).
#[derive(Debug)]
pub struct Identity;

impl Block for Identity {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Tensor {
        xs.shallow_clone()
    }
}

/// The `none` operation: zeros of the output's shape, no computation.
#[derive(Debug)]
pub struct Zero {
    stride: i64,
}

impl Zero {
    /// A zero op of the given stride.
    pub fn new(stride: i64) -> Self {
        Zero { stride }
    }
}

impl Block for Zero {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Tensor {
        if self.stride == 1 {
            xs.zeros_like()
        } else {
            xs.slice(2, 0, None, self.stride)
                .slice(3, 0, None, self.stride)
                .zeros_like()
        }
    }
}

/// Drop-path (Larsson et al. 2017, as in DARTS retraining): zeroes whole examples of
/// `xs` with probability `p` and scales the rest by `1/(1-p)`.
pub fn drop_path(xs: Tensor, p: f64) -> Tensor {
    if p <= 0.0 {
        return xs;
    }
    let keep = 1.0 - p;
    let mut shape = vec![1i64; xs.dim()];
    shape[0] = xs.size()[0];
    let mask = Tensor::rand(shape.as_slice(), (xs.kind(), xs.device()))
        .lt(keep)
        .to_kind(xs.kind());
    xs * mask / keep
}

/// k×k max or average pooling, "same" padding (average excludes padding, as in DARTS).
#[derive(Debug)]
pub struct Pool {
    max: bool,
    kernel: i64,
    stride: i64,
}

impl Pool {
    /// Max pooling.
    pub fn max(kernel: i64, stride: i64) -> Self {
        Pool {
            max: true,
            kernel,
            stride,
        }
    }
    /// Average pooling.
    pub fn avg(kernel: i64, stride: i64) -> Self {
        Pool {
            max: false,
            kernel,
            stride,
        }
    }
}

impl Block for Pool {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Tensor {
        let (k, s, p) = (self.kernel, self.stride, self.kernel / 2);
        if self.max {
            xs.max_pool2d([k, k], [s, s], [p, p], [1, 1], false)
        } else {
            xs.avg_pool2d([k, k], [s, s], [p, p], false, false, None)
        }
    }
}

/// The 3×3 stem of every image space: conv (`p/stem/conv`) → BN (`p/stem/bn`, affine).
pub fn stem(p: &nn::Path, c_in: i64, c_out: i64) -> Sequential {
    Sequential::new()
        .push(Conv2d::new(
            &(p / "stem" / "conv"),
            c_in,
            c_out,
            3,
            1,
            1,
            1,
            1,
            false,
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
        .push(Conv2d::new(
            &(p / "conv"),
            c_in,
            c_out,
            kernel,
            stride,
            padding,
            1,
            1,
            false,
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
        .push(Conv2d::new(
            &(p / "depthwise"),
            c_in,
            c_in,
            kernel,
            stride,
            padding,
            dilation,
            c_in,
            false,
        ))
        .push(Conv2d::new(
            &(p / "pointwise"),
            c_in,
            c_out,
            1,
            1,
            0,
            1,
            1,
            false,
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
            conv1: Conv2d::new(&(p / "conv1"), c_in, c_out / 2, 1, 2, 0, 1, 1, false),
            conv2: Conv2d::new(
                &(p / "conv2"),
                c_in,
                c_out - c_out / 2,
                1,
                2,
                0,
                1,
                1,
                false,
            ),
            bn: BatchNorm::new(&(p / "bn"), c_out, affine),
        }
    }
}

impl Block for FactorizedReduce {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Tensor {
        let x = xs.relu();
        // The shifted branch is padded back to the full size so that odd sizes work.
        let shifted = x
            .slice(2, 1, None, 1)
            .slice(3, 1, None, 1)
            .constant_pad_nd([0, 1, 0, 1]);
        let out = Tensor::cat(
            &[
                self.conv1.forward(&x, ctx),
                self.conv2.forward(&shifted, ctx),
            ],
            1,
        );
        self.bn.forward(&out, ctx)
    }
}

/// The 8 operations of the DARTS space.
pub const DARTS_OPS: [&str; 8] = [
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
];

/// NASNet's 13 operations (as in NNI's NDS spaces).
pub const NASNET_OPS: [&str; 13] = [
    "skip_connect",
    "conv_3x1_1x3",
    "conv_7x1_1x7",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "max_pool_3x3",
    "max_pool_5x5",
    "max_pool_7x7",
    "conv_1x1",
    "conv_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
];

/// ENAS micro's 5 operations.
pub const ENAS_OPS: [&str; 5] = [
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
];

/// AmoebaNet's 8 operations.
pub const AMOEBA_OPS: [&str; 8] = [
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "avg_pool_3x3",
    "max_pool_3x3",
    "dil_sep_conv_3x3",
    "conv_7x1_1x7",
];

/// PNAS's 8 operations.
pub const PNAS_OPS: [&str; 8] = [
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "conv_7x1_1x7",
    "skip_connect",
    "avg_pool_3x3",
    "max_pool_3x3",
    "dil_conv_3x3",
];

/// Every cell operation by name, on `c` channels (DARTS and the NDS family).
pub fn cell_op(name: &str, p: &nn::Path, c: i64, stride: i64, affine: bool) -> Result<BoxBlock> {
    Ok(match name {
        "none" => Box::new(Zero::new(stride)),
        "max_pool_3x3" => Box::new(Pool::max(3, stride)),
        "max_pool_5x5" => Box::new(Pool::max(5, stride)),
        "max_pool_7x7" => Box::new(Pool::max(7, stride)),
        "avg_pool_3x3" => Box::new(Pool::avg(3, stride)),
        "skip_connect" if stride == 1 => Box::new(Identity),
        "skip_connect" => Box::new(FactorizedReduce::new(p, c, c, affine)),
        "conv_1x1" => Box::new(relu_conv_bn(p, c, c, 1, stride, 0, affine)),
        "conv_3x3" => Box::new(relu_conv_bn(p, c, c, 3, stride, 1, affine)),
        "conv_3x1_1x3" => Box::new(conv_1xk_kx1(p, c, 3, stride, affine)),
        "conv_7x1_1x7" => Box::new(conv_1xk_kx1(p, c, 7, stride, affine)),
        "sep_conv_3x3" => Box::new(sep_conv(p, c, c, 3, stride, 1, 1, affine)),
        "sep_conv_5x5" => Box::new(sep_conv(p, c, c, 5, stride, 2, 1, affine)),
        "sep_conv_7x7" => Box::new(sep_conv(p, c, c, 7, stride, 3, 1, affine)),
        "dil_sep_conv_3x3" => Box::new(sep_conv(p, c, c, 3, stride, 2, 2, affine)),
        "dil_conv_3x3" => Box::new(dil_conv(p, c, c, 3, stride, 2, 2, affine)),
        "dil_conv_5x5" => Box::new(dil_conv(p, c, c, 5, stride, 4, 2, affine)),
        other => {
            return Err(unknown_op(
                other,
                &[&DARTS_OPS[..], &NASNET_OPS[..], &["dil_sep_conv_3x3"]].concat(),
            ))
        }
    })
}

/// The 5 operations of NAS-Bench-201.
pub const NB201_OPS: [&str; 5] = [
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
];

/// A NAS-Bench-201 operation on `c` channels (stride 1 inside cells).
pub fn nb201_op(name: &str, p: &nn::Path, c: i64, affine: bool) -> Result<BoxBlock> {
    Ok(match name {
        "none" => Box::new(Zero::new(1)),
        "skip_connect" => Box::new(Identity),
        "nor_conv_1x1" => Box::new(relu_conv_bn(p, c, c, 1, 1, 0, affine)),
        "nor_conv_3x3" => Box::new(relu_conv_bn(p, c, c, 3, 1, 1, affine)),
        "avg_pool_3x3" => Box::new(Pool::avg(3, 1)),
        other => return Err(unknown_op(other, &NB201_OPS)),
    })
}

fn unknown_op(name: &str, known: &[&str]) -> SpacesError {
    SpacesError::Config(format!(
        "unknown operation {name:?} (known: {})",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Settings;
    use crate::nn::{channels_last, AuxSlot};
    use tch::{Device, Kind};

    /// A candidate run through `forward_mixed` (shared ReLU, scale folded into the BN)
    /// equals `forward` times the scale, in training and evaluation, with and without
    /// BN parameters, on NCHW and channels-last inputs.
    #[test]
    fn forward_mixed_matches_forward() {
        tch::manual_seed(0);
        let settings = Settings::default();
        let aux = AuxSlot::default();
        for affine in [true, false] {
            for train in [true, false] {
                let vs = nn::VarStore::new(Device::Cpu);
                let op = sep_conv(&vs.root(), 4, 4, 3, 1, 1, 1, affine);
                let ctx = Ctx::new(train, &settings, &aux);
                let x = Tensor::randn([2, 4, 6, 6], (Kind::Float, Device::Cpu));
                let scale = Tensor::from(0.3f32);
                let input = channels_last(&x);
                let mixed = op.forward_mixed(&MixInput::new(&input), Some(&scale), &ctx);
                let plain = op.forward(&x, &ctx) * &scale;
                assert!(mixed.allclose(&plain, 1e-5, 1e-5, false));
            }
        }
    }
}
