//! The mobile inverted bottleneck (MBConv) of ProxylessNAS / MobileNetV2-V3 with its
//! kernel size and expansion ratio as value choices, sharing weights across values
//! as NNI's mixed operations do: the weights are sized for the largest kernel and
//! ratio; a smaller kernel uses their centre, a smaller ratio their first channels.
//! A weighted setting mixes kernels by masking (Σ wₖ·centre-mask) and ratios by a
//! channel mask (Σ wₑ·first-channels mask), so gradients reach the weights.

use super::{Block, Ctx};
use crate::{
    choice::{Builder, Value, ValueChoice},
    error::Result,
};
use tch::{nn, Device, Kind, Tensor};

/// Batch norm over the first `c` of its channels.
#[derive(Debug)]
struct SlicedBatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

impl SlicedBatchNorm {
    fn new(p: &nn::Path, c: i64) -> Self {
        SlicedBatchNorm {
            weight: p.var("weight", &[c], nn::Init::Const(1.0)),
            bias: p.var("bias", &[c], nn::Init::Const(0.0)),
            running_mean: p.zeros_no_train("running_mean", &[c]),
            running_var: p.ones_no_train("running_var", &[c]),
        }
    }

    fn forward(&self, xs: &Tensor, c: i64, train: bool) -> Tensor {
        let n = |t: &Tensor| t.narrow(0, 0, c);
        xs.batch_norm(
            Some(&n(&self.weight)),
            Some(&n(&self.bias)),
            Some(&n(&self.running_mean)),
            Some(&n(&self.running_var)),
            train,
            0.1,
            1e-5,
            false,
        )
    }
}

/// An MBConv block: 1×1 expand → k×k depthwise (with the stride) → 1×1 project, each
/// with batch norm (ReLU6 after the first two); a residual when shapes allow.
#[derive(Debug)]
pub struct MbConv {
    kernel: ValueChoice,
    expand: ValueChoice,
    c_in: i64,
    c_out: i64,
    stride: i64,
    w_expand: Tensor,
    bn_expand: SlicedBatchNorm,
    w_depthwise: Tensor,
    bn_depthwise: SlicedBatchNorm,
    w_project: Tensor,
    bn_project: SlicedBatchNorm,
}

fn kaiming(p: &nn::Path, name: &str, dims: &[i64]) -> Tensor {
    p.var(name, dims, nn::init::DEFAULT_KAIMING_UNIFORM)
}

impl MbConv {
    /// A block with its kernel chosen among `kernels` (label `{label}_k`) and its
    /// expansion ratio among `ratios` (label `{label}_e`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        b: &Builder,
        p: &nn::Path,
        id: &str,
        label: &str,
        c_in: i64,
        c_out: i64,
        stride: i64,
        kernels: &[i64],
        ratios: &[i64],
    ) -> Result<Self> {
        let kernel = ValueChoice::new(b, &format!("{id}.kernel"), &format!("{label}_k"), kernels)?;
        let expand = ValueChoice::new(b, &format!("{id}.expand"), &format!("{label}_e"), ratios)?;
        let (k, h) = (kernel.max(), c_in * expand.max());
        Ok(MbConv {
            c_in,
            c_out,
            stride,
            w_expand: kaiming(&(p / "expand"), "weight", &[h, c_in, 1, 1]),
            bn_expand: SlicedBatchNorm::new(&(p / "expand_bn"), h),
            w_depthwise: kaiming(&(p / "depthwise"), "weight", &[h, 1, k, k]),
            bn_depthwise: SlicedBatchNorm::new(&(p / "depthwise_bn"), h),
            w_project: kaiming(&(p / "project"), "weight", &[c_out, h, 1, 1]),
            bn_project: SlicedBatchNorm::new(&(p / "project_bn"), c_out),
            kernel,
            expand,
        })
    }
}

/// `Σ w·mask` of masks built by `mask(value)`.
fn mixed_mask(mixture: &[(i64, Tensor)], mask: impl Fn(i64) -> Tensor) -> Tensor {
    mixture
        .iter()
        .map(|(v, w)| mask(*v) * w)
        .reduce(|a, b| a + b)
        .expect("a weighted setting has at least one value")
}

impl Block for MbConv {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let device: Device = xs.device();
        let h_max = self.w_expand.size()[0];
        let k_max = self.w_depthwise.size()[2];
        let (h, channel_mask) = match self.expand.current(ctx) {
            Value::One(e) => (self.c_in * e, None),
            Value::Mixture(m) => (
                h_max,
                Some(mixed_mask(&m, |e| {
                    Tensor::arange(h_max, (Kind::Float, device))
                        .lt((self.c_in * e) as f64)
                        .to_kind(Kind::Float)
                        .view([1, h_max, 1, 1])
                })),
            ),
        };
        let gate = |t: Tensor| match &channel_mask {
            Some(m) => t * m,
            None => t,
        };
        let (size_in, c_in) = (xs.size(), self.c_in);
        let x = xs.conv2d(
            &self.w_expand.narrow(0, 0, h),
            None::<Tensor>,
            [1],
            [0],
            [1],
            1,
        );
        let x = gate(self.bn_expand.forward(&x, h, ctx.train).relu6());
        let dw = self.w_depthwise.narrow(0, 0, h);
        let (w, k) = match self.kernel.current(ctx) {
            Value::One(k) => {
                let off = (k_max - k) / 2;
                (dw.narrow(2, off, k).narrow(3, off, k), k)
            }
            Value::Mixture(m) => {
                let mask = mixed_mask(&m, |k| {
                    let off = (k_max - k) / 2;
                    let full = Tensor::zeros([k_max, k_max], (Kind::Float, device));
                    let _ = full.narrow(0, off, k).narrow(1, off, k).fill_(1.0);
                    full
                });
                (dw * mask, k_max)
            }
        };
        let x = x.conv2d(&w, None::<Tensor>, [self.stride], [k / 2], [1], h);
        let x = gate(self.bn_depthwise.forward(&x, h, ctx.train).relu6());
        let out_hw: i64 = x.size()[2..].iter().product();
        let x = x.conv2d(
            &self.w_project.narrow(1, 0, h),
            None::<Tensor>,
            [1],
            [0],
            [1],
            1,
        );
        let x = self.bn_project.forward(&x, self.c_out, ctx.train);
        let in_hw: i64 = size_in[2..].iter().product();
        ctx.add_flops((in_hw * h * c_in + out_hw * h * k * k + out_hw * self.c_out * h) as u64);
        Ok(if self.stride == 1 && self.c_in == self.c_out {
            x + xs
        } else {
            x
        })
    }
}
