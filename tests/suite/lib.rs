//! The test harness: finding the built artifacts and running the `archon` binary in
//! isolation. The tests themselves are in `main.rs` and its modules.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The cargo output folder of this test build (…/target/debug).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // …/target/debug/deps/suite-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// A built library of this workspace by crate name (`fixture-panicking`).
pub fn library(crate_name: &str) -> PathBuf {
    let path = target_dir().join(format!(
        "{}{}.{}",
        std::env::consts::DLL_PREFIX,
        crate_name.replace('-', "_"),
        std::env::consts::DLL_EXTENSION
    ));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` before the tests",
        path.display()
    );
    path
}

/// The built `archon` binary.
pub fn archon_bin() -> PathBuf {
    let path = target_dir().join(format!("archon{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// `archon` with a clean plugin environment: no ARCHON_PLUGIN_PATH and an empty
/// user data folder, so only the binary's own folder and `--plugin-dir`s count.
pub fn archon(data_home: &Path) -> Command {
    let mut cmd = Command::new(archon_bin());
    cmd.env_remove("ARCHON_PLUGIN_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .env("XDG_DATA_HOME", data_home)
        .env("HOME", data_home);
    cmd
}

/// Runs a command; returns (exit code, stdout, stderr). Fails the test if the process
/// died from a signal (an abort or a crash).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("spawn");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    let code = status.code().unwrap_or_else(|| {
        panic!("process died from a signal ({status}); stdout:\n{stdout}\nstderr:\n{stderr}")
    });
    (code, stdout, stderr)
}

/// Writes `config` (TOML) into `dir` as `experiment.toml`, next to a copy of
/// examples/trial.py; returns the config's path.
pub fn trial_config(dir: &Path, config: &str) -> PathBuf {
    std::fs::copy(
        workspace_root().join("examples/trial.py"),
        dir.join("trial.py"),
    )
    .expect("copying examples/trial.py");
    let path = dir.join("experiment.toml");
    std::fs::write(&path, config).expect("writing the config");
    path
}

/// The one experiment folder in `runs`.
pub fn only_experiment(runs: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .expect("the runs folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Writes a tiny DARTS search on 512 Fashion-MNIST images (width 4, 3 cells of 2
/// nodes, 3 steps of 32 per epoch, CPU) as `NAME.toml` in `dir`; returns its path.
pub fn tiny_darts_search(dir: &Path, name: &str, seed: u64, epochs: usize) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let config = format!(
        r#"name = "{name}"
seed = {seed}
[space]
builtin = "darts"
options = {{ width = 4, cells = 3, nodes = 2 }}
[data]
train_subset = 512
[search]
algorithm = "darts"
epochs = {epochs}
batch_size = 32
steps_per_epoch = 3
device = "cpu"
"#
    );
    std::fs::write(&path, config).expect("writing the search config");
    path
}

/// Starts `archon search CONFIG --runs-dir RUNS` in the background, output discarded.
pub fn spawn_search(data_home: &Path, config: &Path, runs: &Path) -> std::process::Child {
    archon(data_home)
        .arg("search")
        .arg(config)
        .arg("--runs-dir")
        .arg(runs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting archon search")
}

/// Waits (up to 300 s) until `runs` holds an experiment folder for which `ready`
/// holds; returns the folder. `ready` is polled every 100 ms, so it must read (never
/// write) a store that may still be being created.
pub fn wait_for_experiment(runs: &Path, ready: impl Fn(&Path) -> bool) -> PathBuf {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no experiment in {} got ready in 300 s",
            runs.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        let dir = std::fs::read_dir(runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path());
        if let Some(dir) = dir.filter(|d| ready(d)) {
            return dir;
        }
    }
}
