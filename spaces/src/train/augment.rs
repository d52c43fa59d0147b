//! Standard image augmentations on a batch tensor: random crop with zero padding,
//! horizontal flip, cutout, random erasing. They use libtorch's generator (seed it with
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
    /// Probability of random erasing (Zhong et al. 2020) per image: a rectangle of
    /// 2–25 % of the image, aspect ratio 0.3–3.3, filled with uniform noise (0: off).
    pub erasing: f64,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            crop_padding: 2,
            flip: true,
            cutout: 0,
            erasing: 0.0,
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
        if self.erasing > 0.0 {
            out = erase(&out, self.erasing);
        }
        out
    }
}

/// Random erasing of `xs` `[N, C, H, W]`: each image with probability `p`.
fn erase(xs: &Tensor, p: f64) -> Tensor {
    let size = xs.size();
    let (n, h, w) = (size[0], size[2], size[3]);
    let draws = Vec::<f64>::try_from(Tensor::rand([n, 5], (Kind::Double, Device::Cpu)).view([-1]))
        .expect("a 1-D double tensor");
    // Per image: [y0, y1, x0, x1) or an empty box.
    let mut boxes = Vec::with_capacity(4 * n as usize);
    for d in draws.chunks(5) {
        let area = (h * w) as f64 * (0.02 + 0.23 * d[1]);
        let ratio = (0.3f64.ln() + (3.3f64.ln() - 0.3f64.ln()) * d[2]).exp();
        let bh = ((area * ratio).sqrt().round() as i64).clamp(1, h);
        let bw = ((area / ratio).sqrt().round() as i64).clamp(1, w);
        let y0 = ((h - bh + 1) as f64 * d[3]) as i64;
        let x0 = ((w - bw + 1) as f64 * d[4]) as i64;
        if d[0] < p {
            boxes.extend([y0, y0 + bh, x0, x0 + bw]);
        } else {
            boxes.extend([0, 0, 0, 0]);
        }
    }
    let device = xs.device();
    let boxes = Tensor::from_slice(&boxes).view([n, 4]).to_device(device);
    let col = |k: i64| boxes.narrow(1, k, 1).view([n, 1, 1, 1]);
    let ys = Tensor::arange(h, (Kind::Int64, device)).view([1, 1, h, 1]);
    let xs_ = Tensor::arange(w, (Kind::Int64, device)).view([1, 1, 1, w]);
    let inside = ys
        .ge_tensor(&col(0))
        .logical_and(&ys.lt_tensor(&col(1)))
        .logical_and(&xs_.ge_tensor(&col(2)))
        .logical_and(&xs_.lt_tensor(&col(3)));
    let noise = Tensor::rand(size.as_slice(), (xs.kind(), Device::Cpu)).to_device(device);
    noise.where_self(&inside, xs)
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
            erasing: 0.0,
        };
        assert!(none.apply(&xs).equal(&xs));
        let flip = Augment {
            crop_padding: 0,
            flip: true,
            cutout: 0,
            erasing: 0.0,
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
            erasing: 0.0,
        }
        .apply(&xs);
        assert_eq!(crop.size(), xs.size());
        let cut = Augment {
            crop_padding: 0,
            flip: false,
            cutout: 8,
            erasing: 0.0,
        }
        .apply(&xs);
        let zeros = cut.eq(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!(zeros >= 8 * 16, "cutout zeroed only {zeros} pixels");
        // Erasing every image changes a rectangle of at least 2 % of each; erasing
        // none changes nothing.
        let ones = Tensor::ones([64, 1, 28, 28], (Kind::Float, Device::Cpu));
        let erased = Augment {
            crop_padding: 0,
            flip: false,
            cutout: 0,
            erasing: 1.0,
        }
        .apply(&ones);
        let changed = erased
            .ne(1.0)
            .sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Int64);
        let least = changed.min().int64_value(&[]);
        assert!(least >= 10, "an image had only {least} erased pixels");
        let most = changed.max().int64_value(&[]);
        assert!(most <= 28 * 28 / 3, "an image had {most} erased pixels");
    }
}
