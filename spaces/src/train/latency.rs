//! Measured inference latency of a child: what a multi-objective search trades
//! accuracy against.

use crate::{error::Result, network::Child};
use std::time::Instant;
use tch::{Device, Tensor};

/// Warm-up passes before timing (allocator, kernel selection).
const WARM_UP: usize = 3;

/// The median time, in milliseconds, of `runs` forward passes of `child` on one
/// example (batch 1, evaluation mode, no gradients) on the child's device, after a
/// warm-up; CUDA is synchronised around each pass.
pub fn latency_ms(child: &Child, example: &Tensor, runs: usize) -> Result<f64> {
    let device = child.var_store().device();
    let x = example.narrow(0, 0, 1).to_device(device);
    let sync = || {
        if let Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };
    let mut times = Vec::with_capacity(runs.max(1));
    tch::no_grad(|| -> Result<()> {
        for i in 0..WARM_UP + runs.max(1) {
            sync();
            let start = Instant::now();
            let _ = child.forward(&x, false)?;
            sync();
            if i >= WARM_UP {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        Ok(())
    })?;
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
