//! TextNAS (Wang et al. 2020), as in NNI: word embeddings, then `layers` layers over
//! the sequence. Layer k takes one of the last 5 layer outputs as its input
//! (`input_{k}`), applies one of 8 operations (`op_{k}`: convolution of width
//! 1/3/5/7, average or max pooling of width 3, a bidirectional GRU, 4-head
//! self-attention), adds any subset of earlier outputs (`skip_{k}`), and normalises.
//! A masked max over time and a linear layer classify. Padding (token 0) is masked
//! everywhere.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::{Builder, InputChoice, LayerChoice, Reduction},
    error::{Result, SpacesError},
    nn::{ops::BatchNorm, Block, BoxBlock, Conv2d, Ctx, Linear},
};
use tch::{nn, nn::RNN, Kind, Tensor};

/// The TextNAS space.
pub struct TextNas;

inventory::submit!(SpaceEntry(&TextNas));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "64",
        help: "embedding and hidden units",
        training_only: false,
    },
    SpaceOption {
        name: "layers",
        default: "6",
        help: "number of searched layers (24 in the paper)",
        training_only: false,
    },
];

/// The 8 operations of a layer.
pub const TEXTNAS_OPS: [&str; 8] = [
    "conv_1",
    "conv_3",
    "conv_5",
    "conv_7",
    "avg_pool_3",
    "max_pool_3",
    "bi_gru",
    "attention",
];

/// How many of the latest outputs a layer may take its input from.
const CHOOSE_FROM: usize = 5;

fn mask_of<'a>(ctx: &Ctx<'a>) -> &'a Tensor {
    ctx.mask().expect("text layers run under a sequence mask")
}

/// Zeroes padded positions of `[N, H, L]`.
fn masked(xs: Tensor, ctx: &Ctx) -> Tensor {
    xs * mask_of(ctx).unsqueeze(1)
}

/// Convolution over time → BN → ReLU, on `[N, H, L]`.
#[derive(Debug)]
struct SeqConv {
    conv: Conv2d,
    bn: BatchNorm,
}

impl Block for SeqConv {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let y = self.conv.forward(&xs.unsqueeze(2), ctx)?.squeeze_dim(2);
        Ok(masked(
            crate::nn::taps::relu(&self.bn.forward(&y, ctx)?),
            ctx,
        ))
    }
}

/// Pooling over time (width 3, stride 1).
#[derive(Debug)]
struct SeqPool {
    max: bool,
}

impl Block for SeqPool {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let y = if self.max {
            // Padding must not win the max: push it far down first.
            let neg = (mask_of(ctx).unsqueeze(1) - 1.0) * 1e4;
            (xs + neg).max_pool1d([3], [1], [1], [1], false)
        } else {
            xs.avg_pool1d([3], [1], [1], false, false)
        };
        Ok(masked(y, ctx))
    }
}

/// A bidirectional GRU with H/2 units each way.
#[derive(Debug)]
struct BiGru {
    gru: nn::GRU,
    hidden: i64,
}

impl Block for BiGru {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let seq = xs.transpose(1, 2);
        let (out, _) = self.gru.seq(&seq);
        let (l, h, u) = (seq.size()[1], self.hidden, self.hidden / 2);
        // Per step and direction: 3 gates of [h → u] and [u → u].
        ctx.add_flops((2 * l * 3 * (h * u + u * u)) as u64);
        Ok(masked(out.transpose(1, 2), ctx))
    }
}

/// Multi-head self-attention with padding masked out of the keys.
#[derive(Debug)]
struct SelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: i64,
}

impl Block for SelfAttention {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let seq = xs.transpose(1, 2); // [N, L, H]
        let (n, l, h) = (seq.size()[0], seq.size()[1], seq.size()[2]);
        let d = h / self.heads;
        let split = |t: Tensor| t.view([n, l, self.heads, d]).transpose(1, 2); // [N, heads, L, d]
        let (q, k, v) = (
            split(self.q.forward(&seq, ctx)?),
            split(self.k.forward(&seq, ctx)?),
            split(self.v.forward(&seq, ctx)?),
        );
        let scores = q.matmul(&k.transpose(2, 3)) / (d as f64).sqrt();
        let pad = mask_of(ctx).eq(0.0).view([n, 1, 1, l]);
        let attn = scores.masked_fill(&pad, -1e9).softmax(-1, Kind::Float);
        ctx.add_flops((2 * self.heads * l * l * d) as u64);
        let out = attn.matmul(&v).transpose(1, 2).contiguous().view([n, l, h]);
        Ok(masked(self.o.forward(&out, ctx)?.transpose(1, 2), ctx))
    }
}

fn text_op(name: &str, p: &nn::Path, h: i64) -> Result<BoxBlock> {
    let conv = |k: i64| -> BoxBlock {
        Box::new(SeqConv {
            conv: Conv2d::rect(&(p / "conv"), h, h, [1, k], [1, 1], [0, k / 2]),
            bn: BatchNorm::new_1d(&(p / "bn"), h, false),
        })
    };
    Ok(match name {
        "conv_1" => conv(1),
        "conv_3" => conv(3),
        "conv_5" => conv(5),
        "conv_7" => conv(7),
        "avg_pool_3" => Box::new(SeqPool { max: false }),
        "max_pool_3" => Box::new(SeqPool { max: true }),
        "bi_gru" => Box::new(BiGru {
            gru: nn::gru(
                p / "gru",
                h,
                h / 2,
                nn::RNNConfig {
                    bidirectional: true,
                    batch_first: true,
                    ..Default::default()
                },
            ),
            hidden: h,
        }),
        "attention" => Box::new(SelfAttention {
            q: Linear::new(&(p / "q"), h, h),
            k: Linear::new(&(p / "k"), h, h),
            v: Linear::new(&(p / "v"), h, h),
            o: Linear::new(&(p / "o"), h, h),
            heads: 4,
        }),
        other => {
            return Err(SpacesError::Config(format!(
                "unknown TextNAS operation {other:?}"
            )))
        }
    })
}

impl SpaceFamily for TextNas {
    fn name(&self) -> &'static str {
        "textnas"
    }
    fn description(&self) -> &'static str {
        "TextNAS: layers of conv 1/3/5/7, avg/max pool, bi-GRU or self-attention over word embeddings, with input and skip choices"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let h = int_option(o, "textnas", "width", 64, 4)?;
        if h % 4 != 0 {
            return Err(SpacesError::Config(format!("space textnas: option \"width\" must be a multiple of 4 (4 attention heads, 2 GRU directions), found {h}")));
        }
        let n = int_option(o, "textnas", "layers", 6, 1)?;
        if cfg.vocab_size < 3 {
            return Err(SpacesError::Config(
                "space textnas needs a vocabulary (a text dataset); the vocabulary size is not set"
                    .into(),
            ));
        }
        let mut layers = Vec::new();
        for k in 0..n as usize {
            let lp = p / "layers" / k as i64;
            let names: Vec<String> = (0..k).map(|i| format!("layer{i}")).collect();
            let input = if k > 0 {
                let from = k.saturating_sub(CHOOSE_FROM);
                Some((
                    from,
                    InputChoice::new(
                        b,
                        &format!("layers.{k}.input"),
                        &format!("input_{k}"),
                        &names[from..],
                        Some(1),
                        Reduction::Sum,
                    )?,
                ))
            } else {
                None
            };
            let op = LayerChoice::new(
                b,
                &(&lp / "op"),
                &format!("layers.{k}.op"),
                &format!("op_{k}"),
                &TEXTNAS_OPS,
                |name, path| text_op(name, path, h),
            )?;
            let skip = if k > 0 {
                Some(InputChoice::new(
                    b,
                    &format!("layers.{k}.skip"),
                    &format!("skip_{k}"),
                    &names,
                    None,
                    Reduction::Sum,
                )?)
            } else {
                None
            };
            layers.push(TextLayer {
                input,
                op,
                skip,
                bn: BatchNorm::new_1d(&(&lp / "bn"), h, false),
            });
        }
        Ok(Box::new(TextNasNetwork {
            embedding: nn::embedding(p / "embedding", cfg.vocab_size, h, Default::default()),
            layers,
            classifier: Linear::new(&(p / "classifier"), h, cfg.num_classes),
        }))
    }
}

#[derive(Debug)]
struct TextLayer {
    /// The first output it may choose from, and the choice.
    input: Option<(usize, InputChoice)>,
    op: LayerChoice,
    skip: Option<InputChoice>,
    bn: BatchNorm,
}

#[derive(Debug)]
struct TextNasNetwork {
    embedding: nn::Embedding,
    layers: Vec<TextLayer>,
    classifier: Linear,
}

fn chosen(choice: &InputChoice, outputs: &[Tensor], ctx: &Ctx) -> Option<Tensor> {
    let (active, weights) = choice.active(ctx);
    choice.reduce(
        active.iter().map(|&i| outputs[i].shallow_clone()).collect(),
        weights.as_ref(),
    )
}

impl Block for TextNasNetwork {
    /// `xs`: `[N, L]` token ids (0 = padding).
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let mask = xs.ne(0).to_kind(Kind::Float);
        let ctx = ctx.with_mask(&mask);
        let embedded = masked(xs.apply(&self.embedding).transpose(1, 2), &ctx); // [N, H, L]
        let mut outputs: Vec<Tensor> = Vec::new();
        for layer in &self.layers {
            let input = match &layer.input {
                None => embedded.shallow_clone(),
                Some((from, choice)) => {
                    chosen(choice, &outputs[*from..], &ctx).expect("n_chosen is 1")
                }
            };
            let mut out = layer.op.forward(&input, &ctx)?;
            if let Some(skip) = &layer.skip {
                if let Some(s) = chosen(skip, &outputs, &ctx) {
                    out = s + out;
                }
            }
            outputs.push(masked(layer.bn.forward(&out, &ctx)?, &ctx));
        }
        let last = outputs.pop().expect("at least one layer");
        // Masked max over time.
        let pooled = (last + (mask.unsqueeze(1) - 1.0) * 1e4).amax([2], false);
        self.classifier.forward(&pooled, &ctx)
    }
}
