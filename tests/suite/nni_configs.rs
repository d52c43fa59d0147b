//! NNI users' experiment folders run unchanged: `examples/nni-sklearn` is laid out as
//! NNI's own sklearn examples are (an NNI v2 `config.yml`, its legacy v1 twin, an NNI
//! search space and a trial that imports `nni` and scikit-learn). `archon experiment
//! run config.yml` runs it; the v1 config records the same experiment; nnictl's
//! `--config` spelling works; a config archon cannot honour is refused before anything
//! runs, naming the key.

use archon::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run, workspace_root};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn example(name: &str) -> PathBuf {
    workspace_root().join("examples/nni-sklearn").join(name)
}

/// `archon experiment ARGS --runs-dir RUNS` with scikit-learn (installed by
/// scripts/setup.sh) on the trials' path, as an NNI user's environment has it.
fn experiment(home: &Path, args: &[&str], runs: &Path) -> (i32, String, String) {
    let sklearn = workspace_root().join(".libtorch/sklearn-python");
    assert!(
        sklearn.join(".archon-complete").is_file(),
        "scikit-learn is missing: run bash scripts/setup.sh"
    );
    run(archon(home)
        .env("PYTHONPATH", &sklearn)
        .arg("experiment")
        .args(args)
        .arg("--runs-dir")
        .arg(runs))
}

#[test]
fn an_nni_v2_config_runs_unchanged_and_its_v1_twin_records_the_same_experiment() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = example("config.yml");
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 12 succeeded, 0 failed"), "{out}\n{err}");
    assert!(
        !err.contains("warning"),
        "every key of NNI's example has an effect or none to have: {err}"
    );
    let dir = only_experiment(&runs);
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    assert!(id.starts_with("svc_digits-"), "{id}");
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 12);
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded, "trial {}", t.id);
        // The SVC's test accuracy on the digits, and the training accuracy before it.
        let metrics = store.metrics(t.id).unwrap();
        assert_eq!(metrics.len(), 2, "trial {}", t.id);
        let accuracy = t.final_metric.unwrap();
        assert!(
            accuracy > 0.1 && accuracy <= 1.0,
            "trial {}: {accuracy}",
            t.id
        );
    }
    // TPE (seeded) keeps the best trial; some kernel on the digits exceeds 95 %.
    let best = trials
        .iter()
        .filter_map(|t| t.final_metric)
        .fold(0.0, f64::max);
    assert!(best > 0.95, "{best}");
    // The experiment shows and exports as any other.
    let (code, out, _) = experiment(home.path(), &["show", &id], &runs);
    assert_eq!(code, 0);
    assert_eq!(out.matches("SUCCEEDED").count(), 12, "{out}");
    let (code, out, _) = experiment(home.path(), &["export", &id, "--top", "1"], &runs);
    assert_eq!(code, 0);
    let exported: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(exported[0]["metric"].as_f64(), Some(best));
    // And in nnictl's export shapes: every trial, parameters as the trial got them,
    // the value and the intermediate results as NNI's JSON text.
    let nni_json = home.path().join("export.json");
    let (code, _, err) = experiment(
        home.path(),
        &[
            "export",
            &id,
            "--type",
            "json",
            "--intermediate",
            "--filename",
            nni_json.to_str().unwrap(),
        ],
        &runs,
    );
    assert_eq!(code, 0, "{err}");
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&nni_json).unwrap()).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 12);
    for (record, trial) in records.iter().zip(&trials) {
        assert_eq!(record["trialJobId"], trial.id.to_string());
        let value: f64 = record["value"].as_str().unwrap().parse().unwrap();
        assert_eq!(Some(value), trial.final_metric, "{record}");
        let kernel = record["parameter"]["kernel"].as_str().unwrap();
        assert!(
            ["linear", "rbf", "poly", "sigmoid"].contains(&kernel),
            "{record}"
        );
        assert!(record["parameter"]["C"].is_f64(), "{record}");
        // Every result in order, the final one last (as nnictl lists NNI's metric data).
        let intermediate = record["intermediate"].as_array().unwrap();
        assert_eq!(intermediate.len(), 2, "{record}");
        assert!(intermediate[0].as_str().unwrap().parse::<f64>().is_ok());
        assert_eq!(intermediate[1], record["value"]);
    }
    let nni_csv = home.path().join("export.csv");
    let (code, _, err) = experiment(
        home.path(),
        &["export", &id, "-t", "csv", "-f", nni_csv.to_str().unwrap()],
        &runs,
    );
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(&nni_csv).unwrap();
    let mut header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    header.sort_unstable();
    assert_eq!(
        header,
        [
            "C",
            "coef0",
            "degree",
            "gamma",
            "kernel",
            "reward",
            "trialJobId"
        ],
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 13, "{csv}");

    // The legacy v1 config, given as nnictl users type it, records the same experiment.
    let runs_v1 = home.path().join("runs-v1");
    let v1 = example("config_v1.yml");
    let (code, out, err) = experiment(
        home.path(),
        &["create", "--config", v1.to_str().unwrap()],
        &runs_v1,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let twin = Store::open(&only_experiment(&runs_v1)).unwrap();
    assert_eq!(twin.config_text().unwrap(), store.config_text().unwrap());
}

#[test]
fn an_nni_config_archon_cannot_honour_is_refused_before_anything_runs() {
    let home = TempDir::new().unwrap();
    let folder = home.path().join("exp");
    std::fs::create_dir(&folder).unwrap();
    for file in ["main.py", "search_space.json"] {
        std::fs::copy(example(file), folder.join(file)).unwrap();
    }
    let base = std::fs::read_to_string(example("config.yml")).unwrap();
    let runs = home.path().join("runs");
    for (change, expected) in [
        (
            ("platform: local", "platform: remote"),
            "trainingService.platform: \"remote\"",
        ),
        (
            ("name: TPE", "name: SMAC"),
            "tuner.name: \"SMAC\" is not provided by archon; the closest is GPTuner",
        ),
        (
            ("useAnnotation: false", "useAnnotation: true"),
            "useAnnotation: NNI annotations",
        ),
        (
            ("trialCodeDirectory: .", "trialCodeDirectory: ./missing"),
            "trial.directory:",
        ),
        (
            (
                "searchSpaceFile: search_space.json",
                "searchSpaceFile: nowhere.json",
            ),
            "nowhere.json",
        ),
    ] {
        let config = folder.join("config.yml");
        assert!(base.contains(change.0));
        std::fs::write(&config, base.replace(change.0, change.1)).unwrap();
        let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
        assert_ne!(code, 0, "{change:?}: {out}");
        assert!(err.contains(expected), "{change:?}: {err}");
        assert!(
            err.contains("config.yml"),
            "{change:?}: the file is named: {err}"
        );
        assert!(
            !runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none(),
            "nothing recorded"
        );
    }
}

/// A copy of `examples/nni-custom-tuner` in a scratch folder (its tuner writes a log
/// beside itself).
fn custom_tuner_folder(home: &Path) -> PathBuf {
    let folder = home.join("custom");
    std::fs::create_dir(&folder).unwrap();
    for file in [
        "config.yml",
        "search_space.json",
        "trial.py",
        "walking_tuner.py",
    ] {
        std::fs::copy(
            workspace_root()
                .join("examples/nni-custom-tuner")
                .join(file),
            folder.join(file),
        )
        .unwrap();
    }
    folder
}

#[test]
fn a_custom_python_tuner_class_runs_unchanged_and_its_failures_are_clear() {
    let home = TempDir::new().unwrap();
    let folder = custom_tuner_folder(home.path());
    let runs = home.path().join("runs");
    let config = folder.join("config.yml");
    let scratch = home.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let (code, out, err) = run(archon(home.path())
        .env("TMPDIR", &scratch)
        .args(["experiment", "run"])
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    // The check before the experiment (the class created once) leaves no folder behind.
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("archon-check-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    // x = 1, 3, …, 19 from the class's classArgs (start 1, step 2), then it raised
    // NoMoreTrialError: 10 of the 12 allowed trials.
    assert_eq!(trials.len(), 10, "{out}");
    for (i, t) in trials.iter().enumerate() {
        assert_eq!(t.status, TrialStatus::Succeeded, "trial {}", t.id);
        let x = (1 + 2 * i) as f64;
        let power = if i % 2 == 0 { 2 } else { 3 };
        assert_eq!(t.final_metric, Some(x.powi(power)), "trial {}", t.id);
        // Three intermediate results and the final one.
        assert_eq!(store.metrics(t.id).unwrap().len(), 4, "trial {}", t.id);
    }
    // The class heard every result, in NNI's shapes (plain parameters, the dict).
    let log = std::fs::read_to_string(folder.join("tuner_log.jsonl")).unwrap();
    let heard: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(heard.len(), 10, "{log}");
    assert_eq!(
        heard[1]["parameters"],
        serde_json::json!({"x": 3, "kind": "cube"})
    );
    assert_eq!(heard[1]["value"]["power"], 3);
    assert_eq!(heard[1]["reward"], 27.0);

    // A class that raises stops the experiment with its error, never a hang.
    let tuner = folder.join("walking_tuner.py");
    let text = std::fs::read_to_string(&tuner).unwrap();
    std::fs::write(
        &tuner,
        text.replace(
            "        params = {'x': self.x,",
            "        if self.count == 2:\n            raise RuntimeError('lost my way')\n        params = {'x': self.x,",
        ),
    )
    .unwrap();
    let runs = home.path().join("runs-2");
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("the Python tuner walking_tuner.WalkingTuner failed in generate_parameters: RuntimeError: lost my way"),
        "{err}"
    );
}

/// NNI's BatchTuner: each parameter set of the one `choice` once, in order, and the
/// trial receives the set itself; a space that is not one choice of sets is refused
/// before anything runs.
#[test]
fn a_batch_tuner_config_runs_each_parameter_set_once_in_order() {
    let home = TempDir::new().unwrap();
    let folder = home.path().join("batch");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("search_space.json"),
        r#"{"combine_params": {"_type": "choice", "_value": [
            {"optimizer": "Adam", "learning_rate": 0.001},
            {"optimizer": "SGD", "learning_rate": 0.01},
            {"optimizer": "SGD", "learning_rate": 0.005}]}}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("trial.py"),
        "import nni\n\
         p = nni.get_next_parameter()\n\
         assert set(p) == {'optimizer', 'learning_rate'}, p\n\
         nni.report_final_result({'default': p['learning_rate'], 'sgd': p['optimizer'] == 'SGD'})\n",
    )
    .unwrap();
    let config = folder.join("config.yml");
    std::fs::write(
        &config,
        "searchSpaceFile: search_space.json\ntrialCommand: python3 trial.py\n\
         trialConcurrency: 1\ntuner:\n  name: BatchTuner\ntrainingService:\n  platform: local\n",
    )
    .unwrap();
    let runs = home.path().join("runs");
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 3 succeeded, 0 failed"), "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let values: Vec<Option<f64>> = store
        .trials()
        .unwrap()
        .iter()
        .map(|t| t.final_metric)
        .collect();
    assert_eq!(values, [Some(0.001), Some(0.01), Some(0.005)]);

    std::fs::write(
        folder.join("search_space.json"),
        r#"{"lr": {"_type": "choice", "_value": [0.1, 0.01]}}"#,
    )
    .unwrap();
    let (code, _, err) = experiment(
        home.path(),
        &["create", config.to_str().unwrap()],
        &home.path().join("runs2"),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("\"lr\"._value must be a non-empty list of parameter sets"),
        "{err}"
    );
}

/// An assessor class of your own (NNI's `assessor: {className, codeDirectory,
/// classArgs}`) judges every intermediate result as NNI's dispatcher asks it; trials it
/// calls Bad stop early naming it, it hears every trial's end; a class that raises
/// stops the experiment with its error.
#[test]
fn a_custom_python_assessor_class_stops_trials_and_its_failures_are_clear() {
    let home = TempDir::new().unwrap();
    let folder = home.path().join("assessed");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("search_space.json"),
        r#"{"x": {"_type": "choice", "_value": [1, 2, 3, 4]}}"#,
    )
    .unwrap();
    // A trial the assessor should stop would sleep a minute: stopping it is the test.
    std::fs::write(
        folder.join("trial.py"),
        "import time\nimport nni\n\
         x = nni.get_next_parameter()['x']\n\
         nni.report_intermediate_result({'default': x, 'double': 2 * x})\n\
         if x < 3:\n    time.sleep(60)\n\
         nni.report_intermediate_result({'default': x + 0.5, 'double': 2 * x})\n\
         nni.report_final_result(x)\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("threshold.py"),
        "import json\nfrom nni.assessor import Assessor, AssessResult\n\n\
         class Threshold(Assessor):\n\
         \x20   def __init__(self, bar, optimize_mode):\n\
         \x20       assert optimize_mode == 'maximize'\n\
         \x20       self.bar = bar\n\
         \x20   def assess_trial(self, trial_job_id, trial_history):\n\
         \x20       if self.bar < 0:\n\
         \x20           raise RuntimeError('cannot judge')\n\
         \x20       with open('heard.jsonl', 'a') as f:\n\
         \x20           f.write(json.dumps([trial_job_id, trial_history]) + '\\n')\n\
         \x20       good = trial_history[-1]['default'] >= self.bar\n\
         \x20       return AssessResult.Good if good else AssessResult.Bad\n\
         \x20   def trial_end(self, trial_job_id, success):\n\
         \x20       with open('ended.jsonl', 'a') as f:\n\
         \x20           f.write(json.dumps([trial_job_id, success]) + '\\n')\n",
    )
    .unwrap();
    let config = folder.join("config.yml");
    let yaml = "searchSpaceFile: search_space.json\ntrialCommand: python3 trial.py\n\
                trialConcurrency: 2\nmaxTrialDuration: 5m\n\
                tuner:\n  name: GridSearch\n\
                assessor:\n  className: threshold.Threshold\n  codeDirectory: .\n\
                \x20 classArgs:\n    optimize_mode: maximize\n    bar: 3\n\
                trainingService:\n  platform: local\n";
    std::fs::write(&config, yaml).unwrap();
    let runs = home.path().join("runs");
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 4);
    for t in &trials {
        let x: serde_json::Value = serde_json::from_str(&t.parameters).unwrap();
        let x = x["x"]["_value"].as_i64().unwrap();
        if x < 3 {
            assert_eq!(t.status, TrialStatus::EarlyStopped, "x = {x}");
            let reason = t.reason.as_deref().unwrap_or_default();
            assert!(
                reason.contains("assessor threshold.Threshold: AssessResult.Bad after 1"),
                "{reason}"
            );
        } else {
            assert_eq!(t.status, TrialStatus::Succeeded, "x = {x}");
            assert_eq!(t.final_metric, Some(x as f64));
        }
    }
    // It saw the dicts the trials reported, and heard every end.
    let heard = std::fs::read_to_string(folder.join("heard.jsonl")).unwrap();
    assert_eq!(heard.lines().count(), 2 + 2 * 2, "{heard}");
    assert!(
        heard.contains(r#"{"default": 3.5, "double": 6}"#),
        "{heard}"
    );
    let ended = std::fs::read_to_string(folder.join("ended.jsonl")).unwrap();
    let mut ended: Vec<(String, bool)> = ended
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    ended.sort();
    let expected: Vec<(String, bool)> = trials
        .iter()
        .map(|t| (t.id.to_string(), t.status == TrialStatus::Succeeded))
        .collect();
    assert_eq!(ended, expected);

    // A class that raises stops the experiment with its error, naming class and call.
    std::fs::write(&config, yaml.replace("bar: 3", "bar: -1")).unwrap();
    let (code, out, err) = experiment(
        home.path(),
        &["run", config.to_str().unwrap()],
        &home.path().join("runs-2"),
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains(
            "the Python assessor threshold.Threshold failed in assess_trial: RuntimeError: cannot judge"
        ),
        "{err}"
    );
    // One that cannot be created is refused at create, before anything runs.
    std::fs::write(&config, yaml.replace("    bar: 3\n", "")).unwrap();
    let (code, _, err) = experiment(
        home.path(),
        &["create", config.to_str().unwrap()],
        &home.path().join("runs-3"),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("[assessor]") && err.contains("creating threshold.Threshold: TypeError"),
        "{err}"
    );
}

/// NNI's PBTTuner: generations of a population whose trials continue from checkpoint
/// folders they receive as `load_checkpoint_dir` / `save_checkpoint_dir`, as NNI's PBT
/// trials do.
#[test]
fn a_pbt_config_trains_generations_that_continue_from_checkpoints() {
    let home = TempDir::new().unwrap();
    let folder = home.path().join("pbt");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("search_space.json"),
        r#"{"lr": {"_type": "uniform", "_value": [0.0, 1.0]}}"#,
    )
    .unwrap();
    // One "epoch" per trial: the state grows from the checkpoint it loads.
    std::fs::write(
        folder.join("trial.py"),
        "import json, os\nimport nni\n\
         p = nni.get_next_parameter()\n\
         load = os.path.join(p['load_checkpoint_dir'], 'model.json')\n\
         state = json.load(open(load)) if os.path.isfile(load) else {'progress': 0.0, 'steps': 0}\n\
         state['progress'] += 1.0 - abs(p['lr'] - 0.3)\n\
         state['steps'] += 1\n\
         os.makedirs(p['save_checkpoint_dir'], exist_ok=True)\n\
         json.dump(state, open(os.path.join(p['save_checkpoint_dir'], 'model.json'), 'w'))\n\
         nni.report_final_result(state['progress'])\n",
    )
    .unwrap();
    let config = folder.join("config.yml");
    std::fs::write(
        &config,
        "searchSpaceFile: search_space.json\ntrialCommand: python3 trial.py\n\
         trialConcurrency: 2\nmaxTrialNumber: 12\n\
         tuner:\n  name: PBTTuner\n  classArgs:\n    optimize_mode: maximize\n\
         \x20   population_size: 4\n    all_checkpoint_dir: checkpoints\n\
         trainingService:\n  platform: local\n",
    )
    .unwrap();
    let runs = home.path().join("runs");
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 12 succeeded, 0 failed"), "{out}\n{err}");
    // Three generations of four members; each step continued its checkpoint.
    for member in 0..4 {
        for generation in 0..3 {
            let saved = folder.join(format!("checkpoints/{member}/{generation}/model.json"));
            let state: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
            assert_eq!(state["steps"], generation + 1, "{}", saved.display());
        }
    }
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    let generation = |t: &archon::store::TrialRecord| {
        store.trial_info(t.id).unwrap()["pbt"]["generation"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        trials.iter().map(generation).collect::<Vec<_>>(),
        [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    );
    // The last generation's best has trained three steps: it beats every first step.
    let best = |g: u64| {
        trials
            .iter()
            .filter(|t| generation(t) == g)
            .filter_map(|t| t.final_metric)
            .fold(f64::MIN, f64::max)
    };
    assert!(best(2) > best(0) + 1.0, "{} vs {}", best(2), best(0));
}
