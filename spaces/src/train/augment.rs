//! Standard image augmentations on a batch tensor: random crop with zero padding,
//! horizontal flip, cutout. They use libtorch's generator (seed it with
//! `tch::manual_seed` for reproducible runs).

use tch::{Device, Kind, Tensor};

/// Which augmentations to apply to training batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Pad by this many pixels and crop back at a random offset (0: off).
    pub crop_padding: i64,
    /// Flip half of the images left-right.
    pub flip: bool,
    /// Zero a random square of this side in each image (0: off).
    pub cutout: i64,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            crop_padding: 2,
            flip: true,
            cutout: 0,
        }
    }
}

impl Augment {
    /// Augments a batch of images `[N, C, H, W]`; anything else (token ids) passes
    /// through unchanged.
    pub fn apply(&self, xs: &Tensor) -> Tensor {
        let mut out = xs.shallow_clone();
        let size = xs.size();
        if size.len() != 4 {
            return out;
        }
        let (n, h, w) = (size[0], size[2], size[3]);
        if self.crop_padding > 0 {
            let p = self.crop_padding;
            let padded = out.constant_pad_nd([p, p, p, p]);
            let offsets = Vec::<i64>::try_from(Tensor::randint(
                2 * p + 1,
                [n * 2],
                (Kind::Int64, Device::Cpu),
            ))
            .expect("a 1-D int64 tensor");
            let crops: Vec<Tensor> = (0..n as usize)
                .map(|i| {
                    padded.get(i as i64).narrow(1, offsets[2 * i], h).narrow(
                        2,
                        offsets[2 * i + 1],
                        w,
                    )
                })
                .collect();
            out = Tensor::stack(&crops, 0);
        }
        if self.flip {
            let mask = Tensor::rand([n, 1, 1, 1], (Kind::Float, Device::Cpu))
                .lt(0.5)
                .to_device(out.device());
            out = out.flip([3]).where_self(&mask, &out);
        }
        if self.cutout > 0 {
            let ys = Tensor::arange(h, (Kind::Int64, out.device())).view([1, 1, h, 1]);
            let xs_ = Tensor::arange(w, (Kind::Int64, out.device())).view([1, 1, 1, w]);
            let cy = Tensor::randint(h, [n, 1, 1, 1], (Kind::Int64, Device::Cpu))
                .to_device(out.device());
            let cx = Tensor::randint(w, [n, 1, 1, 1], (Kind::Int64, Device::Cpu))
                .to_device(out.device());
            let half = self.cutout / 2;
            let inside = (ys - &cy)
                .abs()
                .le(half)
                .logical_and(&(xs_ - &cx).abs().le(half));
            out = out.masked_fill(&inside, 0.0);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn augmentations_keep_shape_and_content() {
        tch::manual_seed(3);
        let xs = Tensor::rand([8, 1, 28, 28], (Kind::Float, Device::Cpu));
        let none = Augment {
            crop_padding: 0,
            flip: false,
            cutout: 0,
        };
        assert!(none.apply(&xs).equal(&xs));
        let flip = Augment {
            crop_padding: 0,
            flip: true,
            cutout: 0,
        }
        .apply(&xs);
        // Every image is either itself or its mirror image.
        for i in 0..8 {
            let (a, f) = (xs.get(i), flip.get(i));
            assert!(f.equal(&a) || f.equal(&a.flip([2])));
        }
        let crop = Augment {
            crop_padding: 2,
            flip: false,
            cutout: 0,
        }
        .apply(&xs);
        assert_eq!(crop.size(), xs.size());
        let cut = Augment {
            crop_padding: 0,
            flip: false,
            cutout: 8,
        }
        .apply(&xs);
        let zeros = cut.eq(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!(zeros >= 8 * 16, "cutout zeroed only {zeros} pixels");
    }
}
