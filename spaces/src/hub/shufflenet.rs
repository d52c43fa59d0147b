//! The ShuffleNetV2 space of Single Path One-Shot (Guo et al. 2019): a stem, four
//! stages of ShuffleNetV2 blocks (the first of each with stride 2, except where the
//! image is already small), and a 1×1 head. Every block chooses (`block{i}`) among
//! `choice_3`, `choice_5`, `choice_7` (the depthwise kernel) and `xception` (three
//! separable 3×3 convolutions). Blocks split their channels, transform one half,
//! concatenate and shuffle.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::{Builder, LayerChoice},
    error::{Result, SpacesError},
    nn::{
        conv2d,
        ops::{stem, BatchNorm, Relu},
        Block, BoxBlock, Conv2dConfig, Ctx, Linear, PooledClassifier, Sequential,
    },
};
use tch::{nn, Tensor};

/// The ShuffleNetV2 (SPOS) space.
pub struct ShuffleNet;

inventory::submit!(SpaceEntry(&ShuffleNet));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "16",
        help: "stem channels; stages have 4, 8, 16 and 32 times as many",
        training_only: false,
    },
    SpaceOption {
        name: "blocks_per_stage",
        default: "4",
        help: "blocks per stage (the third stage has twice as many, as in SPOS)",
        training_only: false,
    },
];

/// The 4 candidate blocks.
pub const SHUFFLE_OPS: [&str; 4] = ["choice_3", "choice_5", "choice_7", "xception"];

fn pw(p: &nn::Path, c_in: i64, c_out: i64, relu: bool) -> Sequential {
    let s = Sequential::new()
        .push(conv2d(
            &(p / "conv"),
            c_in,
            c_out,
            1,
            Conv2dConfig::default(),
        ))
        .push(BatchNorm::new(&(p / "bn"), c_out, true));
    if relu {
        s.push(Relu)
    } else {
        s
    }
}

fn dw(p: &nn::Path, c: i64, k: i64, stride: i64) -> Sequential {
    Sequential::new()
        .push(conv2d(
            &(p / "conv"),
            c,
            c,
            k,
            Conv2dConfig {
                stride,
                padding: k / 2,
                groups: c,
                ..Default::default()
            },
        ))
        .push(BatchNorm::new(&(p / "bn"), c, true))
}

/// One ShuffleNetV2 block: `c_in → c_out` channels.
#[derive(Debug)]
struct ShuffleBlock {
    main: Sequential,
    /// The projection branch of a stage's first block (which widens, and halves the
    /// resolution when `stride` is 2); other blocks pass half their channels through.
    proj: Option<Sequential>,
}

fn shuffle_block(
    name: &str,
    p: &nn::Path,
    c_in: i64,
    c_out: i64,
    stride: i64,
    project: bool,
) -> Result<BoxBlock> {
    let (branch_in, branch_out) = if project {
        (c_in, c_out - c_in)
    } else {
        (c_in / 2, c_out - c_in / 2)
    };
    let mid = c_out / 2;
    let main = match name {
        "choice_3" | "choice_5" | "choice_7" => {
            let k: i64 = name[7..].parse().unwrap_or(3);
            Sequential::new()
                .push(pw(&(p / "pw1"), branch_in, mid, true))
                .push(dw(&(p / "dw"), mid, k, stride))
                .push(pw(&(p / "pw2"), mid, branch_out, true))
        }
        "xception" => Sequential::new()
            .push(dw(&(p / "dw1"), branch_in, 3, stride))
            .push(pw(&(p / "pw1"), branch_in, mid, true))
            .push(dw(&(p / "dw2"), mid, 3, 1))
            .push(pw(&(p / "pw2"), mid, mid, true))
            .push(dw(&(p / "dw3"), mid, 3, 1))
            .push(pw(&(p / "pw3"), mid, branch_out, true)),
        other => {
            return Err(SpacesError::Config(format!(
                "unknown ShuffleNet block {other:?}"
            )))
        }
    };
    let proj = project.then(|| {
        let k = if name == "xception" {
            3
        } else {
            name[7..].parse().unwrap_or(3)
        };
        Sequential::new()
            .push(dw(&(p / "proj_dw"), c_in, k, stride))
            .push(pw(&(p / "proj_pw"), c_in, c_in, true))
    });
    Ok(Box::new(ShuffleBlock { main, proj }))
}

/// Interleaves the channels of two halves (groups of 2). The batch dimension is
/// left as -1, so that a traced network (TorchScript export) takes any batch size.
fn channel_shuffle(xs: Tensor) -> Tensor {
    let s = xs.size();
    xs.view([-1, 2, s[1] / 2, s[2], s[3]])
        .transpose(1, 2)
        .contiguous()
        .view([-1, s[1], s[2], s[3]])
}

impl Block for ShuffleBlock {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let out = match &self.proj {
            None => {
                let half = xs.size()[1] / 2;
                let (keep, work) = (
                    xs.narrow(1, 0, half),
                    xs.narrow(1, half, xs.size()[1] - half),
                );
                Tensor::cat(&[keep, self.main.forward(&work, ctx)?], 1)
            }
            Some(proj) => Tensor::cat(&[proj.forward(xs, ctx)?, self.main.forward(xs, ctx)?], 1),
        };
        Ok(channel_shuffle(out))
    }
}

impl SpaceFamily for ShuffleNet {
    fn name(&self) -> &'static str {
        "shufflenet"
    }
    fn description(&self) -> &'static str {
        "ShuffleNetV2 (SPOS): choice_3/5/7 or xception per block, 4 stages"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let w = int_option(o, "shufflenet", "width", 16, 2)?;
        if w % 2 != 0 {
            return Err(SpacesError::Config(format!(
                "space shufflenet: option \"width\" must be even, found {w}"
            )));
        }
        let per_stage = int_option(o, "shufflenet", "blocks_per_stage", 4, 1)?;
        let stem = stem(p, cfg.input_channels, w).push(Relu);
        let stages = [
            (4 * w, per_stage),
            (8 * w, per_stage),
            (16 * w, 2 * per_stage),
            (32 * w, per_stage),
        ];
        let mut blocks = Vec::new();
        let (mut c_prev, mut index, mut size) = (w, 0, cfg.image_size);
        for (stage, (c, n)) in stages.into_iter().enumerate() {
            b.set_group(Some(&format!("stage{stage}")));
            for j in 0..n {
                // The first block of a stage halves the resolution while it is above 4.
                let stride = if j == 0 && size > 4 { 2 } else { 1 };
                if stride == 2 {
                    size = (size + 1) / 2;
                }
                let c_in = if j == 0 { c_prev } else { c };
                let label = format!("block{index}");
                blocks.push(LayerChoice::new(
                    b,
                    &(p / "blocks" / index),
                    &format!("blocks.{index}"),
                    &label,
                    &SHUFFLE_OPS,
                    |name, path| shuffle_block(name, path, c_in, c, stride, j == 0),
                )?);
                index += 1;
            }
            c_prev = c;
        }
        let head_c = 64 * w;
        let head = pw(&(p / "head"), c_prev, head_c, true);
        let features = blocks
            .into_iter()
            .fold(stem, |seq, block| seq.push(block))
            .push(head);
        Ok(Box::new(PooledClassifier::new(
            features,
            Linear::new(&(p / "classifier"), head_c, cfg.num_classes),
        )))
    }
}
