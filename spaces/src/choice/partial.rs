//! PC-DARTS's partial channel connections (Xu et al., "PC-DARTS: Partial Channel
//! Connections for Memory-Efficient Architecture Search", ICLR 2020): only the first
//! `1/k` of an edge's channels go through its layer choice; the rest bypass it, and
//! the two are concatenated and channel-shuffled in `k` groups, so that the next edge
//! sends other channels through. Every candidate then costs `1/k` of its memory and
//! compute during the search; the found architecture is trained with all channels.

use super::LayerChoice;
use crate::{
    error::Result,
    nn::{channels_last, Block, Ctx},
};
use tch::Tensor;

/// A stride-1 edge whose layer choice sees `1/k` of the channels.
#[derive(Debug)]
pub struct PartialChannels {
    choice: LayerChoice,
    k: i64,
}

impl PartialChannels {
    /// The channels the candidates of an edge of `c` channels are built with.
    pub fn part(c: i64, k: i64) -> i64 {
        (c / k.max(1)).max(1)
    }

    /// `choice` (its candidates built with [`Self::part`] channels) on `k`-partial
    /// edges.
    pub fn new(choice: LayerChoice, k: i64) -> Self {
        PartialChannels { choice, k }
    }
}

/// `xs` `[N, C, H, W]` with its channels shuffled in `groups` groups: channel
/// `g·(C/groups) + i` moves to `i·groups + g`.
pub fn channel_shuffle(xs: &Tensor, groups: i64) -> Tensor {
    let s = xs.size();
    let shuffled = xs
        .reshape([-1, groups, s[1] / groups, s[2], s[3]])
        .transpose(1, 2)
        .reshape([-1, s[1], s[2], s[3]]);
    channels_last(&shuffled)
}

/// A `k`-partial edge of `stride` (1 or 2) through `choice`, whose candidates were
/// built with [`PartialChannels::part`] channels: the bypassing channels are
/// max-pooled 2×2 where the edge halves the resolution (as the paper's code does).
pub fn forward_partial(
    choice: &LayerChoice,
    k: i64,
    stride: i64,
    xs: &Tensor,
    ctx: &Ctx,
) -> Result<Tensor> {
    let c = xs.size()[1];
    let part = PartialChannels::part(c, k);
    if part >= c {
        return choice.forward(xs, ctx);
    }
    let through = choice.forward(&xs.narrow(1, 0, part), ctx)?;
    let mut rest = xs.narrow(1, part, c - part);
    if stride > 1 {
        rest = rest.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], true);
    }
    let out = Tensor::cat(&[through, rest], 1);
    Ok(if c % k == 0 {
        channel_shuffle(&out, k)
    } else {
        out
    })
}

impl Block for PartialChannels {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        forward_partial(&self.choice, self.k, 1, xs, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shuffle_interleaves_the_groups() {
        let xs = Tensor::arange(8, (tch::Kind::Float, tch::Device::Cpu)).view([1, 8, 1, 1]);
        let ys = channel_shuffle(&xs, 4);
        let got: Vec<f32> = Vec::try_from(ys.flatten(0, -1)).unwrap();
        assert_eq!(got, vec![0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]);
        assert_eq!(PartialChannels::part(16, 4), 4);
        assert_eq!(PartialChannels::part(2, 4), 1);
    }
}
