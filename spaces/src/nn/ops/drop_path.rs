//! Drop-path, the regulariser of DARTS-style retraining.

use tch::Tensor;

/// Drop-path (Larsson et al. 2017, as in DARTS retraining): zeroes whole examples of
/// `xs` with probability `p` and scales the rest by `1/(1-p)`.
pub fn drop_path(xs: Tensor, p: f64) -> Tensor {
    if p <= 0.0 {
        return xs;
    }
    let keep = 1.0 - p;
    let mut shape = vec![1i64; xs.dim()];
    shape[0] = xs.size()[0];
    let mask = Tensor::rand(shape.as_slice(), (xs.kind(), xs.device()))
        .lt(keep)
        .to_kind(xs.kind());
    xs * mask / keep
}
