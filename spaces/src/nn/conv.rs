//! Convolution and linear layers that count their multiply-accumulates.

use super::{Block, ConvCall, Ctx};
use crate::error::Result;
use tch::{nn, Device, Tensor};

/// A 2-D convolution (weights `[out, in/groups, kh, kw]`), optionally with a bias.
#[derive(Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: [i64; 2],
    padding: [i64; 2],
    dilation: i64,
    groups: i64,
}

/// A [`Conv2d`]'s hyper-parameters besides its channels and kernel size. The default
/// is a plain convolution: stride 1, no padding, no dilation, one group, no bias (the
/// spaces' convolutions are followed by batch norm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Stride (both directions).
    pub stride: i64,
    /// Zero padding (each side, both directions).
    pub padding: i64,
    /// Dilation.
    pub dilation: i64,
    /// Groups (`c_in` for a depthwise convolution).
    pub groups: i64,
    /// Whether to add a learnt bias.
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }
}

/// A `kernel`×`kernel` convolution from `c_in` to `c_out` channels under `p`
/// (`p / "weight"`, `p / "bias"`), Kaiming-initialised.
pub fn conv2d(p: &nn::Path, c_in: i64, c_out: i64, kernel: i64, cfg: Conv2dConfig) -> Conv2d {
    Conv2d::new(p, c_in, c_out, kernel, cfg)
}

impl Conv2d {
    /// A `kernel`×`kernel` convolution under `p` (`p / "weight"`, `p / "bias"`),
    /// Kaiming-initialised; see also [`conv2d`].
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64, kernel: i64, cfg: Conv2dConfig) -> Self {
        let Conv2dConfig {
            stride,
            padding,
            dilation,
            groups,
            bias,
        } = cfg;
        let conv = nn::conv2d(
            p,
            c_in,
            c_out,
            kernel,
            nn::ConvConfig {
                stride,
                padding,
                dilation,
                groups,
                bias,
                ..Default::default()
            },
        );
        Conv2d {
            weight: conv.ws,
            bias: conv.bs,
            stride: [stride; 2],
            padding: [padding; 2],
            dilation,
            groups,
        }
    }

    /// A rectangular convolution (`kernel`, `stride`, `padding` as `[h, w]`), no bias.
    pub fn rect(
        p: &nn::Path,
        c_in: i64,
        c_out: i64,
        kernel: [i64; 2],
        stride: [i64; 2],
        padding: [i64; 2],
    ) -> Self {
        let cfg = nn::ConvConfigND::<[i64; 2]> {
            stride,
            padding,
            bias: false,
            ..Default::default()
        };
        let conv = nn::conv(p, c_in, c_out, kernel, cfg);
        Conv2d {
            weight: conv.ws,
            bias: None,
            stride,
            padding,
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv2d {
    /// Whether to run this (dilated, depthwise) convolution on `xs` as an undilated
    /// one with a zero-inflated kernel: the same products and sums, but on the CPU
    /// oneDNN has no depthwise kernel for dilation and falls back to im2col GEMM when
    /// the stride is above 1 or the dilated kernel is wider than the map, 3–5× slower
    /// in the backward pass than the undilated depthwise kernel on the larger kernel.
    fn inflate_on_cpu(&self, xs: &Tensor) -> bool {
        let size = self.weight.size();
        let depthwise = self.groups > 1 && size[1] == 1;
        if self.dilation == 1 || !depthwise || xs.device() != Device::Cpu || xs.dim() != 4 {
            return false;
        }
        let extent = |k: i64| self.dilation * (k - 1) + 1;
        let input = xs.size();
        self.stride.iter().any(|&s| s > 1)
            || extent(size[2]) > input[2]
            || extent(size[3]) > input[3]
    }
}

/// The kernel `[O, I, kh, kw]` of a convolution with dilation `d` as the equivalent
/// undilated kernel `[O, I, d(kh-1)+1, d(kw-1)+1]` (zeros between the taps), built
/// differentiably so that gradients reach the original weights.
fn inflate_kernel(weight: &Tensor, d: i64) -> Tensor {
    let size = weight.size();
    let (o, i, kh, kw) = (size[0], size[1], size[2], size[3]);
    weight
        .reshape([o, i, kh, 1, kw, 1])
        .constant_pad_nd([0, d - 1, 0, 0, 0, d - 1])
        .reshape([o, i, kh * d, kw * d])
        .slice(2, 0, d * (kh - 1) + 1, 1)
        .slice(3, 0, d * (kw - 1) + 1, 1)
}

impl Block for Conv2d {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let (weight, dilation) = if self.inflate_on_cpu(xs) {
            (inflate_kernel(&self.weight, self.dilation), 1)
        } else {
            (self.weight.shallow_clone(), self.dilation)
        };
        ctx.record_conv(|| ConvCall {
            input: xs.size(),
            channels_last: xs.dim() == 4 && xs.stride()[1] == 1 && xs.size()[1] > 1,
            weight: weight.size(),
            stride: self.stride.to_vec(),
            padding: self.padding.to_vec(),
            dilation,
            groups: self.groups,
        });
        let out = xs.conv2d(
            &weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
            [dilation],
            self.groups,
        );
        let size = self.weight.size();
        // Per example: every output element costs (in/groups)·k·k MACs.
        let per_output = size[1] * size[2] * size[3];
        let outputs: i64 = out.size()[1..].iter().product();
        ctx.add_flops((outputs * per_output) as u64);
        Ok(out)
    }
}

/// A fully connected layer (`[.., in] → [.., out]`).
#[derive(Debug)]
pub struct Linear {
    inner: nn::Linear,
}

impl Linear {
    /// A linear layer under `p`.
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64) -> Self {
        Linear {
            inner: nn::linear(p, c_in, c_out, Default::default()),
        }
    }
}

impl Block for Linear {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let size = self.inner.ws.size();
        // Per example: one [in → out] product for every row (e.g. every token).
        let dims = xs.size();
        let rows: i64 = dims[1..dims.len() - 1].iter().product();
        ctx.add_flops((size[0] * size[1] * rows) as u64);
        Ok(xs.apply(&self.inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// The inflated kernel gives the dilated convolution's outputs and gradients.
    #[test]
    fn inflated_kernel_matches_dilation() {
        tch::manual_seed(0);
        for (k, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            let c = 4;
            let w = Tensor::randn([c, 1, k, k], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let x = Tensor::randn([2, c, 9, 9], (Kind::Float, Device::Cpu));
            let pad = k - 1;
            let direct = x.conv2d(&w, None::<Tensor>, [stride], [pad], [2], c);
            let inflated = x.conv2d(
                &inflate_kernel(&w, 2),
                None::<Tensor>,
                [stride],
                [pad],
                [1],
                c,
            );
            assert!(direct.allclose(&inflated, 1e-5, 1e-5, false));
            let g_direct = Tensor::run_backward(&[direct.sum(Kind::Float)], &[&w], false, false);
            let g_inflated =
                Tensor::run_backward(&[inflated.sum(Kind::Float)], &[&w], false, false);
            assert!(g_direct[0].allclose(&g_inflated[0], 1e-4, 1e-4, false));
        }
    }
}
