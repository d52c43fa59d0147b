//! Records which libtorch this crate is compiled against (the tensor-layer version that
//! every plugin reports in its metadata and that the host checks at load time).
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(libtorch) = env::var_os("LIBTORCH").map(PathBuf::from) else {
        panic!("LIBTORCH is not set: run `scripts/setup.sh` in the archon checkout (it installs libtorch and .cargo/config.toml points LIBTORCH at it), or set LIBTORCH to the `torch` folder of a torch 2.13.0 wheel");
    };
    // A torch wheel ships torch/version.py; a libtorch zip ships build-version.
    let py = libtorch.join("version.py");
    let plain = libtorch.join("build-version");
    let version = if let Ok(text) = fs::read_to_string(&py) {
        println!("cargo:rerun-if-changed={}", py.display());
        text.lines()
            .find_map(|l| l.strip_prefix("__version__ = "))
            .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
    } else if let Ok(text) = fs::read_to_string(&plain) {
        println!("cargo:rerun-if-changed={}", plain.display());
        Some(text.trim().to_string())
    } else {
        None
    };
    let Some(version) = version else {
        panic!("cannot tell the libtorch version under LIBTORCH={}: neither version.py nor build-version is there; run `scripts/setup.sh`", libtorch.display());
    };
    // Drop the local part (+cu130, +cpu): the C++ ABI is the same across builds.
    let version = version.split('+').next().unwrap_or_default();
    println!("cargo:rustc-env=ARCHON_LIBTORCH_VERSION={version}");
}
