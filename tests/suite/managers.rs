//! One manager per experiment (a second `resume` of a running classic experiment or
//! one-shot search is refused naming the live manager's pid; a killed manager frees
//! its experiment) and read-only commands that neither create nor migrate a store
//! (`experiment list` survives a corrupt one).

use archon::store::{lock::ManagerLock, Store, TrialStatus};
use archon_tests::{
    archon, only_experiment, run, spawn_search, tiny_darts_search, trial_config,
    wait_for_experiment,
};
use std::{
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::{Duration, Instant},
};
use tempfile::TempDir;

const ONE_TRIAL: &str = r#"
name = "locked"
direction = "maximize"
max_trials = 1
concurrency = 1
[space]
builtin = "nas-bench-201"
[trial]
command = ["python3", "trial.py"]
timeout = "60s"
[tuner]
name = "random"
"#;

fn experiment(home: &Path, args: &[&str], runs: &Path) -> (i32, String, String) {
    run(archon(home)
        .arg("experiment")
        .args(args)
        .arg("--runs-dir")
        .arg(runs))
}

/// Starts `archon experiment run` of ONE_TRIAL with trials sleeping `sleep` seconds
/// per step (three steps).
fn spawn_manager(home: &Path, runs: &Path, sleep: &str) -> Child {
    let config = trial_config(home, ONE_TRIAL);
    archon(home)
        .args(["experiment", "run", config.to_str().unwrap(), "--runs-dir"])
        .arg(runs)
        .env("TRIAL_SLEEP", sleep)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The experiment folder once its first trial runs.
fn wait_for_running_trial(runs: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no trial started");
        std::thread::sleep(Duration::from_millis(100));
        let Some(dir) = std::fs::read_dir(runs)
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path())
        else {
            continue;
        };
        let Ok(store) = Store::open_read_only(&dir) else {
            continue;
        };
        let trials = store.trials().unwrap_or_default();
        if trials
            .first()
            .is_some_and(|t| t.status == TrialStatus::Running && t.attempts == 1)
        {
            return dir;
        }
    }
}

fn id_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_str().unwrap().to_string()
}

#[test]
fn a_second_resume_of_a_running_experiment_is_refused_naming_the_manager_and_the_trial_runs_once() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    // Three steps of 4 s: the trial still runs when the second resume comes, even on a
    // loaded machine.
    let mut manager = spawn_manager(home.path(), &runs, "4");
    let dir = wait_for_running_trial(&runs);
    let (code, out, err) = experiment(home.path(), &["resume", &id_of(&dir)], &runs);
    assert!(
        manager.try_wait().unwrap().is_none(),
        "the first manager ended before the second resume"
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains(&format!("live manager (pid {})", manager.id())),
        "{err}"
    );
    let status = manager.wait().unwrap();
    assert!(status.success(), "the first manager finishes: {status}");
    let store = Store::open_read_only(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 1);
    assert_eq!(
        (trials[0].status, trials[0].attempts),
        (TrialStatus::Succeeded, 1),
        "the running trial was started again"
    );
    assert_eq!(store.meta("status").unwrap().as_deref(), Some("DONE"));
}

#[test]
fn a_killed_manager_frees_its_experiment_even_while_its_trial_runs() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    // Steps of 10 s: the trial outlives the whole check, so a lock it held would show.
    let mut manager = spawn_manager(home.path(), &runs, "10");
    let dir = wait_for_running_trial(&runs);
    manager.kill().unwrap(); // SIGKILL; its trial goes on for half a minute
    manager.wait().unwrap();
    // The OS drops the lock with the manager's last descriptor. On a loaded machine a
    // trial the manager was just forking may hold a copy until it execs (the lock is
    // close-on-exec): milliseconds, so a few seconds' grace, far less than the trial.
    let deadline = Instant::now() + Duration::from_secs(5);
    let lock = loop {
        match ManagerLock::acquire(&dir) {
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => break other,
        }
    };
    assert!(
        lock.is_ok(),
        "the experiment stays locked after kill -9: {:#}",
        lock.unwrap_err()
    );
    drop(lock);
    // A dead manager shows as such, with the command that continues the experiment.
    let (code, list, err) = experiment(home.path(), &["list"], &runs);
    assert_eq!(code, 0, "{err}");
    assert!(list.contains("INTERRUPTED"), "{list}");
    let (code, show, err) = experiment(home.path(), &["show", &id_of(&dir)], &runs);
    assert_eq!(code, 0, "{err}");
    assert!(
        show.contains("status INTERRUPTED")
            && show.contains(&format!("`archon experiment resume {}`", id_of(&dir))),
        "{show}"
    );
}

#[test]
fn a_second_manager_of_a_running_search_is_refused_naming_its_pid() {
    let home = TempDir::new().unwrap();
    let config = tiny_darts_search(home.path(), "long", 1, 200);
    let runs = home.path().join("runs");
    let mut search = spawn_search(home.path(), &config, &runs);
    let dir = wait_for_experiment(&runs, |dir| {
        Store::open_read_only(dir)
            .and_then(|s| s.search_epochs())
            .is_ok_and(|e| !e.is_empty())
    });
    let (code, out, err) = experiment(home.path(), &["resume", &id_of(&dir)], &runs);
    let still_running = search.try_wait().unwrap().is_none();
    search.kill().unwrap();
    search.wait().unwrap();
    assert!(still_running, "the search ended before the second resume");
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains(&format!("live manager (pid {})", search.id())),
        "{err}"
    );
    let store = Store::open_read_only(&dir).unwrap();
    assert_eq!(
        store.meta("status").unwrap().as_deref(),
        Some("RUNNING"),
        "the refused resume marked the running search"
    );
    assert!(store.meta("error").unwrap().is_none());
    drop(store);
    ManagerLock::acquire(&dir).expect("kill -9 frees the search's experiment");
}

#[test]
fn list_shows_every_readable_experiment_and_marks_a_corrupt_one() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(home.path(), ONE_TRIAL);
    let (code, out, err) = experiment(home.path(), &["create", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let good = id_of(&only_experiment(&runs));
    let bad = runs.join("broken-00000001");
    std::fs::create_dir_all(&bad).unwrap();
    let garbage = b"this is not a database, just garbage bytes ".repeat(200);
    std::fs::write(bad.join("experiment.db"), &garbage).unwrap();
    let empty = runs.join("empty-00000002");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("experiment.db"), b"").unwrap();

    let (code, out, err) = experiment(home.path(), &["list"], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let line = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{out}"))
            .to_string()
    };
    assert!(line(&good).contains("CREATED"), "{out}");
    let broken = line("broken-00000001");
    assert!(
        broken.contains("UNREADABLE") && broken.contains("not a database"),
        "{out}"
    );
    assert!(line("empty-00000002").contains("UNREADABLE"), "{out}");
    // Read-only: neither store was initialised or repaired.
    assert_eq!(std::fs::read(bad.join("experiment.db")).unwrap(), garbage);
    assert_eq!(std::fs::read(empty.join("experiment.db")).unwrap().len(), 0);
}

#[test]
fn read_only_commands_never_create_or_migrate_a_store() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let empty = runs.join("empty-00000002");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("experiment.db"), b"").unwrap();
    for args in [
        &["show", "empty-00000002"][..],
        &["export", "empty-00000002"],
        &["logs", "empty-00000002"],
    ] {
        let (code, out, err) = experiment(home.path(), args, &runs);
        assert_eq!(code, 1, "{args:?}: {out}\n{err}");
        assert_eq!(
            std::fs::read(empty.join("experiment.db")).unwrap().len(),
            0,
            "{args:?} wrote to the store"
        );
    }
    let (code, out, err) = experiment(home.path(), &["show", "missing-1"], &runs);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!runs.join("missing-1").exists(), "show created a folder");
}
