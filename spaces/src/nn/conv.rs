//! Convolution and linear layers that count their multiply-accumulates.

use super::{Block, Ctx};
use tch::{nn, Tensor};

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

impl Conv2d {
    /// A convolution under `p` (`p / "weight"`, `p / "bias"`), Kaiming-initialised.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: &nn::Path,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        dilation: i64,
        groups: i64,
        bias: bool,
    ) -> Self {
        let cfg = nn::ConvConfig {
            stride,
            padding,
            dilation,
            groups,
            bias,
            ..Default::default()
        };
        let conv = nn::conv2d(p, c_in, c_out, kernel, cfg);
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

impl Block for Conv2d {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Tensor {
        let out = xs.conv2d(
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
            [self.dilation],
            self.groups,
        );
        let size = self.weight.size();
        // Per example: every output element costs (in/groups)·k·k MACs.
        let per_output = size[1] * size[2] * size[3];
        let outputs: i64 = out.size()[1..].iter().product();
        ctx.add_flops((outputs * per_output) as u64);
        out
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
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Tensor {
        let size = self.inner.ws.size();
        // Per example: one [in → out] product for every row (e.g. every token).
        let dims = xs.size();
        let rows: i64 = dims[1..dims.len() - 1].iter().product();
        ctx.add_flops((size[0] * size[1] * rows) as u64);
        xs.apply(&self.inner)
    }
}
