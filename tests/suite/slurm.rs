//! The Slurm training service against a real single-node Slurm (`scripts/slurm-dev.sh`
//! starts it; `scripts/test.sh` does so before the tests and stops it after): trials
//! as batch jobs, failures, time limits, `stop`, and kill -9 of the manager followed by
//! a resume that follows the jobs still running instead of submitting them again.

use archon::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run, trial_config, workspace_root};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};
use tempfile::TempDir;

static SLURM: Once = Once::new();

/// Starts the dev Slurm if it is not up (idempotent).
fn slurm() {
    SLURM.call_once(|| {
        let status = Command::new("bash")
            .arg(workspace_root().join("scripts/slurm-dev.sh"))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .expect("bash");
        assert!(
            status.success(),
            "scripts/slurm-dev.sh start failed (it needs root and apt)"
        );
    });
}

fn config(dir: &Path, trials: u64, concurrency: usize, command: &str, timeout: &str) -> PathBuf {
    trial_config(
        dir,
        &format!(
            r#"name = "sl"
direction = "maximize"
max_trials = {trials}
concurrency = {concurrency}
seed = 3
[space]
builtin = "nas-bench-201"
[trial]
command = {command}
timeout = "{timeout}"
[tuner]
name = "random"
[training_service]
kind = "slurm"
poll_ms = 200
"#
        ),
    )
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn squeue_state(job: &str) -> String {
    let out = Command::new("squeue")
        .args(["-h", "-j", job, "-t", "all", "-o", "%T"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `archon experiment run CONFIG` in the background, output discarded.
fn start_manager(home: &Path, config: &Path, runs: &Path) -> std::process::Child {
    archon(home)
        .args(["experiment", "run"])
        .arg(config)
        .arg("--runs-dir")
        .arg(runs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the jobs of trials 0..n of the one experiment in `runs` are RUNNING.
fn wait_for_running_jobs(runs: &Path, n: u64) {
    wait_until(
        &format!("{n} jobs running"),
        Duration::from_secs(60),
        || {
            std::fs::read_dir(runs)
                .ok()
                .and_then(|mut d| d.next())
                .is_some_and(|e| {
                    let store = Store::open(&e.unwrap().path()).unwrap();
                    (0..n).all(|i| {
                        store
                            .meta(&format!("handle:{i}:1"))
                            .unwrap()
                            .is_some_and(|h| {
                                squeue_state(h.split(' ').next().unwrap()) == "RUNNING"
                            })
                    })
                })
        },
    );
}

#[test]
fn eight_trials_at_concurrency_two_run_as_slurm_jobs_with_every_metric() {
    slurm();
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(home.path(), 8, 2, r#"["python3", "trial.py"]"#, "60s");
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 8);
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded, "{t:?}");
        assert_eq!(
            store.metrics(t.id).unwrap().len(),
            4,
            "trial {} lost metrics",
            t.id
        );
        let handle = store
            .meta(&format!("handle:{}:1", t.id))
            .unwrap()
            .expect("a job id per trial");
        assert!(
            handle.split(' ').next().unwrap().parse::<u64>().is_ok(),
            "{handle}"
        );
        let log = std::fs::read_to_string(store.trial_dir(t.id).join("stdout.log")).unwrap();
        assert!(log.contains("epoch 3: training"), "{log}");
        assert!(store.trial_dir(t.id).join("job-1.sh").is_file());
    }
}

#[test]
fn failures_and_time_limits_are_recorded_with_their_reasons() {
    slurm();
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(
        home.path(),
        1,
        1,
        r#"["sh", "-c", "echo ARCHON_METRIC 0.1; echo oops >&2; exit 3"]"#,
        "60s",
    );
    let (code, _, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let t = &store.trials().unwrap()[0];
    assert_eq!(t.status, TrialStatus::Failed);
    // The reason ends with the trial's own last words on stderr.
    assert_eq!(
        t.reason.as_deref(),
        Some("exited with code 3: oops"),
        "{t:?}"
    );
    assert_eq!(t.exit_code, Some(3));
    let stderr = std::fs::read_to_string(store.trial_dir(t.id).join("stderr.log")).unwrap();
    assert!(stderr.contains("oops"), "{stderr}");

    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(
        home.path(),
        1,
        1,
        r#"["sh", "-c", "echo ARCHON_METRIC 0.1; sleep 300"]"#,
        "2s",
    );
    let start = Instant::now();
    let (code, _, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let t = &store.trials().unwrap()[0];
    assert_eq!(t.status, TrialStatus::Failed);
    assert!(
        t.reason.as_deref().unwrap_or("").contains("timed out"),
        "{t:?}"
    );
    let job = store.meta("handle:0:1").unwrap().unwrap();
    let job = job.split(' ').next().unwrap();
    let state = squeue_state(job);
    assert!(
        state.is_empty() || state == "CANCELLED" || state == "TIMEOUT",
        "job {job} is {state}"
    );
}

#[test]
fn stop_cancels_the_jobs_and_kill_9_then_resume_follows_running_jobs() {
    slurm();
    // stop: two long trials, cancelled by `experiment stop`.
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(
        home.path(),
        2,
        2,
        r#"["sh", "-c", "echo ARCHON_METRIC 0.1; sleep 300"]"#,
        "10m",
    );
    let mut manager = start_manager(home.path(), &cfg, &runs);
    wait_for_running_jobs(&runs, 2);
    let dir = only_experiment(&runs);
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "stop", &id, "--runs-dir"])
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(manager.wait().unwrap().success());
    let store = Store::open(&dir).unwrap();
    for t in store.trials().unwrap() {
        assert_eq!(t.status, TrialStatus::Canceled, "{t:?}");
        let job = store.meta(&format!("handle:{}:1", t.id)).unwrap().unwrap();
        let state = squeue_state(job.split(' ').next().unwrap());
        assert!(
            state.is_empty() || state.starts_with("CANCELLED"),
            "{state}"
        );
    }

    // kill -9 of the manager while 2 of 4 jobs run; resume follows them.
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(
        home.path(),
        4,
        2,
        r#"["sh", "-c", "echo ARCHON_METRIC 0.1; sleep 4; echo ARCHON_METRIC 0.$ARCHON_TRIAL_ID"]"#,
        "10m",
    );
    let mut manager = start_manager(home.path(), &cfg, &runs);
    wait_for_running_jobs(&runs, 2);
    manager.kill().unwrap();
    manager.wait().unwrap();
    let dir = only_experiment(&runs);
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "resume", &id, "--runs-dir"])
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("following attempt 1 again"), "{err}");
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 4);
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded, "{t:?}");
        assert_eq!(t.attempts, 1, "trial {} was submitted again", t.id);
        assert_eq!(
            store.metrics(t.id).unwrap().len(),
            2,
            "trial {} metrics",
            t.id
        );
        assert!(
            (t.final_metric.unwrap() - format!("0.{}", t.id).parse::<f64>().unwrap()).abs() < 1e-9
        );
        assert!(!store.trial_dir(t.id).join("job-2.sh").exists());
    }
}
