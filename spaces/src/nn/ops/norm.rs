//! Batch normalisation, with the mixture's scale folded into its affine transform.

use crate::{
    error::Result,
    nn::{Block, Ctx, MixInput},
};
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
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        Ok(self.inner.forward_t(xs, ctx.train))
    }

    /// `scale · BN(x) = (scale·γ)·x̂ + scale·β`: the scale folds into the (per-channel)
    /// affine parameters instead of costing a pass over the output. The running
    /// statistics and the gradients are those of the unfolded form.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, ctx: &Ctx) -> Result<Tensor> {
        let Some(scale) = scale else {
            return self.forward(input.xs(), ctx);
        };
        let bn = &self.inner;
        let weight = match &bn.ws {
            Some(w) => w * scale,
            None => scale.expand_as(&bn.running_mean),
        };
        let bias = bn.bs.as_ref().map(|b| b * scale);
        Ok(input.xs().batch_norm(
            Some(&weight),
            bias.as_ref(),
            Some(&bn.running_mean),
            Some(&bn.running_var),
            ctx.train,
            self.config.momentum,
            self.config.eps,
            self.config.cudnn_enabled,
        ))
    }
}
