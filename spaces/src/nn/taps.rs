//! ReLU taps: every ReLU of a network goes through [`relu`], which, while
//! [`record`] runs on this thread, also keeps its output. Activation-based zero-cost
//! proxies (NASWOT's binary codes, Fisher's activation sensitivities) read them; the
//! rest of the time a tap costs one thread-local check.

use std::cell::RefCell;
use tch::Tensor;

thread_local! {
    static TAPS: RefCell<Option<Vec<Tensor>>> = const { RefCell::new(None) };
}

/// `relu(xs)`, kept when recording.
pub fn relu(xs: &Tensor) -> Tensor {
    let y = xs.relu();
    TAPS.with(|t| {
        if let Some(taps) = t.borrow_mut().as_mut() {
            taps.push(y.shallow_clone());
        }
    });
    y
}

/// Runs `f` and returns its result with the output of every ReLU it ran (in order,
/// still in the autograd graph).
pub fn record<R>(f: impl FnOnce() -> R) -> (R, Vec<Tensor>) {
    TAPS.with(|t| *t.borrow_mut() = Some(Vec::new()));
    let out = f();
    let taps = TAPS.with(|t| t.borrow_mut().take()).unwrap_or_default();
    (out, taps)
}
