//! Layers for search spaces: the [`Block`] trait every layer implements, the forward
//! context that carries the choice settings, and the operations of the published
//! spaces.

mod conv;
mod mbconv;
pub mod ops;
pub mod taps;

pub use conv::{conv2d, Conv2d, Conv2dConfig, Linear};
pub use mbconv::MbConv;

use crate::{choice::Settings, error::Result};
use std::cell::{Cell, OnceCell, RefCell};
use tch::{Device, Tensor};

/// What a forward pass needs besides its input: training or evaluation mode, the
/// settings of the supernet's choice points, and an optional FLOP counter.
pub struct Ctx<'a> {
    /// Training mode (batch statistics, dropout, drop-path).
    pub train: bool,
    settings: &'a Settings,
    flops: Option<&'a Cell<u64>>,
    convs: Option<&'a RefCell<Vec<ConvCall>>>,
    mask: Option<&'a Tensor>,
    drop_path: f64,
    aux: &'a RefCell<Option<Tensor>>,
}

/// One convolution as a forward pass ran it (for measuring libtorch alone on the
/// same work).
#[derive(Debug, Clone, PartialEq)]
pub struct ConvCall {
    /// Input shape `[N, C, H, W]`.
    pub input: Vec<i64>,
    /// Whether the input was channels-last.
    pub channels_last: bool,
    /// Kernel shape `[O, C/groups, kh, kw]`.
    pub weight: Vec<i64>,
    /// Stride.
    pub stride: Vec<i64>,
    /// Padding.
    pub padding: Vec<i64>,
    /// Dilation.
    pub dilation: i64,
    /// Groups.
    pub groups: i64,
}

/// Where a network with an auxiliary head leaves its auxiliary logits.
pub type AuxSlot = RefCell<Option<Tensor>>;

impl<'a> Ctx<'a> {
    /// A context over `settings`; auxiliary logits, if any, go to `aux`.
    pub fn new(train: bool, settings: &'a Settings, aux: &'a AuxSlot) -> Self {
        Ctx {
            train,
            settings,
            flops: None,
            convs: None,
            mask: None,
            drop_path: 0.0,
            aux,
        }
    }

    /// The same context dropping cell paths with probability `p` (training only).
    pub fn dropping_paths(mut self, p: f64) -> Self {
        self.drop_path = p;
        self
    }

    /// The drop-path probability (0 unless training a child with drop-path).
    pub fn drop_path(&self) -> f64 {
        if self.train {
            self.drop_path
        } else {
            0.0
        }
    }

    /// Records auxiliary logits (from an auxiliary head).
    pub fn set_aux(&self, logits: Tensor) {
        *self.aux.borrow_mut() = Some(logits);
    }

    /// The same context with a sequence mask (`[N, L]` float, 1 for tokens, 0 for
    /// padding) for the layers of text spaces.
    pub fn with_mask<'b>(&'b self, mask: &'b Tensor) -> Ctx<'b> {
        Ctx {
            train: self.train,
            settings: self.settings,
            flops: self.flops,
            convs: self.convs,
            mask: Some(mask),
            drop_path: self.drop_path,
            aux: self.aux,
        }
    }

    /// The sequence mask, if this is a text forward pass.
    pub fn mask(&self) -> Option<&'a Tensor> {
        self.mask
    }

    /// The same context, counting multiply-accumulates into `counter`.
    pub fn counting(mut self, counter: &'a Cell<u64>) -> Self {
        self.flops = Some(counter);
        self
    }

    /// The same context, recording every convolution it runs into `calls`.
    pub fn recording_convs(mut self, calls: &'a RefCell<Vec<ConvCall>>) -> Self {
        self.convs = Some(calls);
        self
    }

    /// Records a convolution, if a recorder is attached.
    pub fn record_conv(&self, call: impl FnOnce() -> ConvCall) {
        if let Some(c) = self.convs {
            c.borrow_mut().push(call());
        }
    }

    /// The choice settings.
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// Adds `macs` multiply-accumulates to the counter, if one is attached.
    pub fn add_flops(&self, macs: u64) {
        if let Some(c) = self.flops {
            c.set(c.get() + macs);
        }
    }
}

/// A layer of a search space: a supernet part or a child network part.
///
/// Input and output are NCHW image tensors unless a layer says otherwise.
pub trait Block: std::fmt::Debug + Send {
    /// Applies the layer. Fails when a part of it can (a cell plugin returning an
    /// error, an output of the wrong shape); libtorch's own errors still panic and are
    /// caught by the network's forward pass.
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor>;

    /// Applies the layer as one candidate of a mixture: to `input.xs()`, with the
    /// output multiplied by the scalar tensor `scale` when one is given. The result
    /// equals `forward` (times `scale`); layers override it to save work across
    /// candidates: a leading ReLU takes the input's shared [`MixInput::relu`], and a
    /// trailing batch norm folds `scale` into its affine transform.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, ctx: &Ctx) -> Result<Tensor> {
        Ok(scaled(self.forward(input.xs(), ctx)?, scale))
    }
}

/// `xs * scale`, or `xs` without a scale.
pub(crate) fn scaled(xs: Tensor, scale: Option<&Tensor>) -> Tensor {
    match scale {
        Some(s) => xs * s,
        None => xs,
    }
}

/// The input of a mixture's candidates, with its ReLU computed at most once for all
/// the candidates that begin with one.
#[derive(Debug)]
pub struct MixInput<'a> {
    xs: &'a Tensor,
    relu: OnceCell<Tensor>,
}

impl<'a> MixInput<'a> {
    /// The input `xs`.
    pub fn new(xs: &'a Tensor) -> Self {
        MixInput {
            xs,
            relu: OnceCell::new(),
        }
    }

    /// The input itself.
    pub fn xs(&self) -> &Tensor {
        self.xs
    }

    /// `relu(xs)`, computed on first use and shared afterwards.
    pub fn relu(&self) -> &Tensor {
        self.relu.get_or_init(|| taps::relu(self.xs))
    }
}

/// A cell's output: its nodes concatenated along channels. The last node feeds only
/// the concatenation, whose backward hands it a slice of the output's gradient — not
/// dense, so the batch norms ending its edges (a mixture's scale folded into them, no
/// multiply between) would take libtorch's slow strided backward kernel (8 % of a
/// DARTS supernet step). A product by one gives it a dense gradient.
pub fn cat_nodes(nodes: &[Tensor]) -> Tensor {
    match nodes.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            let mut all: Vec<Tensor> = rest.iter().map(Tensor::shallow_clone).collect();
            all.push(last * 1.0);
            Tensor::cat(&all, 1)
        }
        _ => Tensor::cat(nodes, 1),
    }
}

/// Global average pooling of `[N, C, H, W]` to `[N, C, 1, 1]`. It is an average pool
/// with a kernel of the whole map rather than adaptive pooling, whose backward turns
/// channels-last gradients into NCHW ones (so every layer below would run its slow
/// NCHW kernels, see [`channels_last`]); the two agree up to float rounding.
pub fn global_avg_pool(xs: &Tensor) -> Tensor {
    let size = xs.size();
    match size[..] {
        [_, _, h, w] => xs.avg_pool2d([h, w], [h, w], [0, 0], false, true, None),
        _ => xs.adaptive_avg_pool2d([1, 1]),
    }
}

/// An image batch `[N, C, H, W]` on the CPU in channels-last memory order (the same
/// values and shape, NHWC strides), where oneDNN's convolutions, notably the
/// depthwise ones of the cell spaces, run several times faster than on NCHW; the
/// layers after it keep that order. Other tensors are returned as they are.
pub fn channels_last(xs: &Tensor) -> Tensor {
    if xs.dim() == 4 && xs.device() == Device::Cpu {
        xs.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
    } else {
        xs.shallow_clone()
    }
}

/// A boxed layer.
pub type BoxBlock = Box<dyn Block>;

/// Layers applied one after the other.
#[derive(Debug, Default)]
pub struct Sequential {
    layers: Vec<BoxBlock>,
}

impl Sequential {
    /// An empty sequence.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a layer.
    pub fn push(mut self, layer: impl Block + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }
}

impl Block for Sequential {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let mut out = xs.shallow_clone();
        for layer in &self.layers {
            out = layer.forward(&out, ctx)?;
        }
        Ok(out)
    }

    /// The first layer takes the shared input, the last one the scale.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, ctx: &Ctx) -> Result<Tensor> {
        match self.layers.as_slice() {
            [] => Ok(scaled(input.xs().shallow_clone(), scale)),
            [only] => only.forward_mixed(input, scale, ctx),
            [first, middle @ .., last] => {
                let mut out = first.forward_mixed(input, None, ctx)?;
                for layer in middle {
                    out = layer.forward(&out, ctx)?;
                }
                last.forward_mixed(&MixInput::new(&out), scale, ctx)
            }
        }
    }
}

/// A chain network's end: `features` (stem, blocks, head), global average pooling,
/// and a linear classifier.
#[derive(Debug)]
pub struct PooledClassifier {
    features: Sequential,
    classifier: Linear,
}

impl PooledClassifier {
    /// `features` then pooling then `classifier`.
    pub fn new(features: Sequential, classifier: Linear) -> Self {
        PooledClassifier {
            features,
            classifier,
        }
    }
}

impl Block for PooledClassifier {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let x = self
            .features
            .forward(xs, ctx)?
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1);
        self.classifier.forward(&x, ctx)
    }
}
