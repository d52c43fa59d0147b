//! The C allocator's settings for training. libtorch allocates every activation and
//! gradient with `malloc`; glibc serves blocks above a (dynamically raised) threshold
//! with `mmap` and gives the top of its heap back to the system once 128 KiB of it is
//! free, so a step whose working set changes shape — DARTS's second order, with its
//! virtual and shifted weights between forward passes — pays page faults on memory it
//! had a moment ago: measured at the yardstick (`archon bench one-shot --option
//! order=2`), the forward passes of the Hessian-vector product took 0.83 and 0.52 s
//! instead of 0.33 s. Keeping blocks up to 32 MiB in the heap and never trimming it
//! makes the second-order epoch 13 % faster at the same peak memory (2.96 GiB).
//! `ARCHON_DEFAULT_MALLOC=1` leaves glibc's defaults (for comparisons).

/// Applies the settings (glibc on Linux; elsewhere nothing).
pub fn tune() {
    if std::env::var_os("ARCHON_DEFAULT_MALLOC").is_some_and(|v| v == "1") {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters; it is called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
