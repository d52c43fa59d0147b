//! The candidate operations of the published cell spaces (DARTS, NAS-Bench-201, the
//! NDS family), as in their papers' reference code: a file per family, and the
//! registry that builds one by name.

mod activation;
mod convolution;
mod drop_path;
mod identity;
mod norm;
mod pooling;
mod registry;

pub use activation::Relu;
pub use convolution::{conv_1xk_kx1, dil_conv, relu_conv_bn, sep_conv, stem, FactorizedReduce};
pub use drop_path::drop_path;
pub use identity::{Identity, Zero};
pub use norm::BatchNorm;
pub use pooling::Pool;
pub use registry::{
    cell_op, nb201_op, AMOEBA_OPS, DARTS_OPS, ENAS_OPS, NASNET_OPS, NB201_OPS, PNAS_OPS,
};

#[cfg(test)]
mod tests;
