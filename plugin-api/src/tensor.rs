//! Handing tensors across the plugin boundary without copies and without `unsafe` in
//! plugin code.
//!
//! Host and plugins link the same libtorch dynamically, so a `torch::Tensor` made on
//! one side is valid on the other: same allocator, same autograd engine, same CUDA
//! context. Across the ABI a tensor travels as an opaque pointer to one heap
//! `torch::Tensor` (tch's `C_tensor`). Two types encode the only two ways to hand one
//! over:
//!
//! - [`OwnedTensor`] — **moves ownership**. The sender gives up its `Tensor`
//!   ([`OwnedTensor::new`]); the receiver turns it back into a `Tensor` exactly once
//!   ([`OwnedTensor::into_tensor`]), or drops it, which frees it. Never both.
//! - [`TensorRef`] — **lends** a tensor for the duration of one call. The receiver may
//!   read it and compute with it; to keep it past the call it takes
//!   [`TensorRef::to_tensor`], a new handle to the same storage and autograd history.
//!
//! Both keep the autograd graph: gradients of a result computed inside a plugin flow
//! back to the host's leaf tensors.

use abi_stable::StableAbi;
use std::{ffi::c_void, marker::PhantomData, mem};
use tch::Tensor;

/// A tensor whose ownership moves across the boundary.
///
/// Owns one heap `torch::Tensor`; dropping it frees that tensor (via libtorch, which
/// both sides share). Shapes, dtype and device are whatever the tensor has.
#[repr(transparent)]
#[derive(StableAbi, Debug)]
pub struct OwnedTensor {
    ptr: *mut c_void,
}

// A `torch::Tensor` handle may move between threads (tch's `Tensor` is `Send`).
unsafe impl Send for OwnedTensor {}

impl OwnedTensor {
    /// Gives up `tensor` to be sent across the boundary.
    pub fn new(tensor: Tensor) -> Self {
        let mut tensor = tensor;
        let ptr = tensor.as_mut_ptr().cast::<c_void>();
        mem::forget(tensor);
        OwnedTensor { ptr }
    }

    /// Takes the tensor back as a tch `Tensor` (exactly once; consumes the handle).
    pub fn into_tensor(self) -> Tensor {
        // SAFETY: `ptr` came from `Tensor::as_mut_ptr` of a tensor that was forgotten,
        // so this is its only owner; `self` is forgotten below so it is not freed twice.
        let tensor = unsafe { Tensor::from_ptr(self.ptr.cast()) };
        mem::forget(self);
        tensor
    }
}

impl From<Tensor> for OwnedTensor {
    fn from(tensor: Tensor) -> Self {
        OwnedTensor::new(tensor)
    }
}

impl Drop for OwnedTensor {
    fn drop(&mut self) {
        // SAFETY: as in `into_tensor`; this is the one place the handle is released.
        drop(unsafe { Tensor::from_ptr(self.ptr.cast()) });
    }
}

/// A tensor lent across the boundary for the duration of one call.
///
/// The lender keeps ownership; the borrow cannot outlive the lender's `Tensor`.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct TensorRef<'a> {
    ptr: *mut c_void,
    _borrow: PhantomData<&'a ()>,
}

unsafe impl Send for TensorRef<'_> {}

impl<'a> TensorRef<'a> {
    /// Lends `tensor`.
    pub fn new(tensor: &'a Tensor) -> Self {
        TensorRef {
            ptr: tensor.as_ptr() as *mut c_void,
            _borrow: PhantomData,
        }
    }

    /// A new `Tensor` handle to the lent tensor: same storage, same autograd history
    /// (a shallow clone; no data is copied). The caller owns the handle.
    pub fn to_tensor(&self) -> Tensor {
        // SAFETY: `ptr` points to a live `torch::Tensor` for 'a (the lender's borrow);
        // `clone_from_ptr` makes a new handle and leaves the lender's untouched.
        unsafe { Tensor::clone_from_ptr(self.ptr.cast()) }
    }
}

impl<'a> From<&'a Tensor> for TensorRef<'a> {
    fn from(tensor: &'a Tensor) -> Self {
        TensorRef::new(tensor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn owned_round_trip_keeps_data_and_graph() {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).set_requires_grad(true);
        let y = (&x * 2.0).sum(Kind::Float);
        let back = OwnedTensor::new(y).into_tensor();
        back.backward();
        assert_eq!(Vec::<f32>::try_from(x.grad()).unwrap(), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn borrowed_clone_shares_storage() {
        let x = Tensor::zeros([2], (Kind::Float, tch::Device::Cpu));
        let mut alias = TensorRef::new(&x).to_tensor();
        let _ = alias.fill_(5.0);
        assert_eq!(Vec::<f32>::try_from(&x).unwrap(), vec![5.0, 5.0]);
    }
}
