use super::*;

const V2: &str = r#"
experimentName: sklearn classification
searchSpaceFile: search_space.json
trialCommand: python3 main.py
trialCodeDirectory: .
trialConcurrency: 2
maxTrialNumber: 10
maxExperimentDuration: 1h
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
assessor:
  name: Medianstop
  classArgs:
    optimize_mode: maximize
    start_step: 2
trainingService:
  platform: local
"#;

const V1: &str = r#"
authorName: default
experimentName: sklearn classification
trialConcurrency: 2
maxExecDuration: 1h
maxTrialNum: 10
trainingServicePlatform: local
searchSpacePath: search_space.json
useAnnotation: false
tuner:
  builtinTunerName: TPE
  classArgs:
    optimize_mode: maximize
assessor:
  builtinAssessorName: Medianstop
  classArgs:
    optimize_mode: maximize
    start_step: 2
trial:
  command: python3 main.py
  codeDir: .
  gpuNum: 0
"#;

fn archon(yaml: &str) -> toml::Table {
    let c = convert(yaml, Path::new("config.yml")).unwrap();
    toml::from_str(&c.toml).unwrap()
}

fn refusal(yaml: &str) -> String {
    format!("{:#}", convert(yaml, Path::new("config.yml")).unwrap_err())
}

#[test]
fn a_v2_config_becomes_the_archon_config_it_means() {
    let c = archon(V2);
    let expected: toml::Table = toml::from_str(
        r#"
        name = "sklearn-classification"
        direction = "maximize"
        concurrency = 2
        max_trials = 10
        max_duration = "3600s"
        [space]
        file = "search_space.json"
        [trial]
        command = ["bash", "-c", "python3 main.py"]
        directory = "."
        [tuner]
        name = "tpe"
        options = {}
        [assessor]
        name = "medianstop"
        start_step = 2
        "#,
    )
    .unwrap();
    assert_eq!(c, expected);
    // And archon reads it.
    let text = convert(V2, Path::new("config.yml")).unwrap().toml;
    crate::config::ExperimentConfig::parse(&text, Path::new("config.yml")).unwrap();
}

#[test]
fn a_v1_config_and_its_v2_twin_give_the_same_experiment() {
    assert_eq!(archon(V1), archon(V2));
}

#[test]
fn an_inline_search_space_and_an_advisor() {
    let c = archon(
        "searchSpace:\n  lr: {_type: loguniform, _value: [0.001, 0.1]}\ntrialCommand: python3 t.py\n\
         trialConcurrency: 1\nadvisor:\n  name: Hyperband\n  classArgs: {optimize_mode: minimize, R: 27, eta: 3}\n",
    );
    let space: serde_json::Value =
        serde_json::from_str(c["space"]["json"].as_str().unwrap()).unwrap();
    assert_eq!(space["lr"]["_type"], "loguniform");
    assert_eq!(c["direction"].as_str(), Some("minimize"));
    assert_eq!(c["tuner"]["name"].as_str(), Some("hyperband"));
    assert_eq!(c["tuner"]["options"]["max_budget"].as_integer(), Some(27));
    assert_eq!(
        c["max_trials"].as_integer(),
        Some(1_000_000),
        "NNI: no limit given, none"
    );
}

#[test]
fn keys_archon_cannot_honour_are_refused_by_name() {
    let base = "searchSpaceFile: s.json\ntrialCommand: python3 t.py\ntrialConcurrency: 1\ntuner: {name: TPE}\n";
    for (extra, expected) in [
        (
            "multiPhase: true\n",
            "multiPhase: a trial gets one parameter set",
        ),
        ("useAnnotation: true\n", "useAnnotation: NNI annotations"),
        ("sharedStorage: {storageType: NFS}\n", "sharedStorage:"),
        (
            "trainingService: {platform: remote}\n",
            "trainingService.platform: \"remote\"",
        ),
        (
            "trainingService: {platform: local, maxTrialNumberPerGpu: 2}\n",
            "maxTrialNumberPerGpu: 2",
        ),
        (
            "trialGpuNumber: 2\n",
            "trialGpuNumber: 2: archon gives a trial one GPU",
        ),
        (
            "trialGpuNumber: 1\n",
            "trialGpuNumber: 1 needs trainingService.gpuIndices",
        ),
        (
            "maxExperimentDuration: soon\n",
            "maxExperimentDuration: \"soon\" is not a duration",
        ),
        (
            "trialConcurrency: 0\n",
            "trialConcurrency: 0 is not a whole number",
        ),
        (
            "nonsense: 1\n",
            "nonsense: not a key of NNI's experiment config",
        ),
        (
            "multiThread: true\n",
            "multiThread: archon's tuners are called from one thread",
        ),
        (
            "searchSpace: {x: {_type: choice, _value: [1]}}\n",
            "searchSpace: give searchSpaceFile or searchSpace, not both",
        ),
        (
            "experimentType: nas\n",
            "experimentType: \"nas\": archon reads NNI's HPO experiments",
        ),
        (
            "assessor: {name: Medianstop, classArgs: {start_step: 0}}\n",
            "classArgs.start_step: 0 is not a whole number",
        ),
        (
            "assessor: {name: Curvefitting}\n",
            "assessor.classArgs.epoch_num: missing",
        ),
        (
            "assessor: {name: Medianstop, classArgs: {optimize_mode: minimize}}\n",
            "but tuner.classArgs.optimize_mode",
        ),
    ] {
        let yaml = if extra.starts_with("trialConcurrency") {
            base.replace("trialConcurrency: 1\n", extra)
        } else {
            format!("{base}{extra}")
        };
        let yaml = if extra.starts_with("assessor: {name: Medianstop") {
            yaml.replace(
                "tuner: {name: TPE}",
                "tuner: {name: TPE, classArgs: {optimize_mode: maximize}}",
            )
        } else {
            yaml
        };
        let e = refusal(&yaml);
        assert!(e.contains(expected), "{extra:?}: {e}");
        assert!(e.contains("config.yml (NNI config, v2)"), "{e}");
    }
    let e = refusal(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: MetisTuner}\n",
    );
    assert!(
        e.contains("tuner.name: \"MetisTuner\" is not provided by archon; the closest is GPTuner"),
        "{e}"
    );
    assert_eq!(
        archon("searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: Anneal}\n")["tuner"]["name"].as_str(),
        Some("anneal")
    );
    // BatchTuner: the grid over the one choice, and trials get the set itself.
    let batch = archon(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: BatchTuner}\n",
    );
    assert_eq!(batch["tuner"]["name"].as_str(), Some("grid"));
    assert_eq!(batch["trial"]["batch"].as_bool(), Some(true));
    // PBTTuner: archon's pbt, its checkpoint folder under archon's name.
    let pbt = archon(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: PBTTuner, classArgs: {optimize_mode: maximize, all_checkpoint_dir: ck, population_size: 4}}\n",
    );
    assert_eq!(pbt["tuner"]["name"].as_str(), Some("pbt"));
    assert_eq!(
        pbt["tuner"]["options"]["checkpoint_dir"].as_str(),
        Some("ck")
    );
    assert_eq!(
        pbt["tuner"]["options"]["population_size"].as_integer(),
        Some(4)
    );
    for (tuner, expected) in [
        (
            "{name: NetworkMorphism}",
            "the closest is a one-shot search",
        ),
        ("{name: DNGOTuner}", "the closest is GPTuner"),
        (
            "{name: Hyperband, classArgs: {exec_mode: serial}}",
            "classArgs.exec_mode: \"serial\"",
        ),
        (
            "{name: BOHB, classArgs: {config_space: cs.json}}",
            "classArgs.config_space",
        ),
        (
            "{name: TPE, includeIntermediateResults: true}",
            "learn from final results only",
        ),
        (
            "{name: TPE, classArgs: {optimize_mode: sideways}}",
            "optimize_mode: \"sideways\"",
        ),
    ] {
        let e = refusal(&format!(
            "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {tuner}\n"
        ));
        assert!(e.contains(expected), "{tuner}: {e}");
    }
    // An assessor class of your own runs as archon's python assessor.
    let with_class = archon("searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: TPE}\nassessor: {className: my.Judge, codeDirectory: code, classArgs: {bar: 0.5, optimize_mode: maximize}}\n");
    let assessor = &with_class["assessor"];
    assert_eq!(assessor["name"].as_str(), Some("python"));
    assert_eq!(assessor["class_name"].as_str(), Some("my.Judge"));
    assert_eq!(assessor["code_directory"].as_str(), Some("code"));
    assert_eq!(assessor["class_args"]["bar"].as_float(), Some(0.5));
    assert_eq!(
        assessor["class_args"]["optimize_mode"].as_str(),
        Some("maximize")
    );
    let e = refusal("searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: TPE, className: my.Tuner}\n");
    assert!(
        e.contains("give a built-in `name` or a `className`, not both"),
        "{e}"
    );
    let e = refusal("trialCommand: t\ntrialConcurrency: 1\ntuner: {name: TPE}\n");
    assert!(e.contains("searchSpaceFile: missing"), "{e}");
    let e = refusal("trial: {command: t, image: msranni/nni}\ntrainingServicePlatform: local\n");
    assert!(
        e.contains("trial.image: not a key archon honours") && e.contains("v1"),
        "{e}"
    );
    let e = refusal("a: [unclosed\n");
    assert!(e.contains("config.yml: not YAML"), "{e}");
}

#[test]
fn a_python_tuner_class_runs_through_the_python_plugin_in_both_formats() {
    let v2 = archon(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\n\
         tuner:\n  className: my_tuner.MyTuner\n  codeDirectory: tuners\n  \
         classArgs: {optimize_mode: minimize, start: 3}\n",
    );
    let tuner = v2["tuner"].as_table().unwrap();
    assert_eq!(tuner["name"].as_str(), Some("python"));
    let options = tuner["options"].as_table().unwrap();
    assert_eq!(options["class_name"].as_str(), Some("my_tuner.MyTuner"));
    assert_eq!(options["code_directory"].as_str(), Some("tuners"));
    // The class gets its classArgs as NNI gives them, optimize_mode included.
    let args = options["class_args"].as_table().unwrap();
    assert_eq!(args["optimize_mode"].as_str(), Some("minimize"));
    assert_eq!(args["start"].as_integer(), Some(3));
    assert_eq!(v2["direction"].as_str(), Some("minimize"));
    let v1 = archon(
        "trialConcurrency: 1\ntrainingServicePlatform: local\nsearchSpacePath: s.json\n\
         trial: {command: t, codeDir: .}\n\
         tuner:\n  codeDir: tuners\n  classFileName: my_tuner.py\n  className: MyTuner\n  \
         classArgs: {optimize_mode: minimize, start: 3}\n",
    );
    assert_eq!(v1["tuner"], v2["tuner"]);
}

#[test]
fn curvefitting_becomes_archon_s_curvefitting_assessor() {
    let c = archon(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: TPE}\n\
         assessor: {name: Curvefitting, classArgs: {epoch_num: 20, threshold: 0.9, gap: 2, optimize_mode: maximize}}\n",
    );
    let expected: toml::Table = toml::from_str(
        "name = \"curvefitting\"\nstart_step = 6\nepoch_num = 20\nthreshold = 0.9\ngap = 2\n",
    )
    .unwrap();
    assert_eq!(c["assessor"].as_table(), Some(&expected));
}

#[test]
fn manager_only_keys_have_no_effect_and_say_so() {
    let c = convert(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: Random}\nlogLevel: debug\nnniManagerIp: 10.0.0.1\n",
        Path::new("config.yml"),
    )
    .unwrap();
    assert_eq!(c.ignored.len(), 2, "{:?}", c.ignored);
    assert!(
        c.ignored[0].starts_with("logLevel: no effect"),
        "{:?}",
        c.ignored
    );
}

#[test]
fn durations_and_gpus_as_nni_writes_them() {
    assert_eq!(seconds("k", &serde_json::json!("2d")).unwrap(), 172_800);
    assert_eq!(seconds("k", &serde_json::json!("1.5h")).unwrap(), 5_400);
    assert_eq!(seconds("k", &serde_json::json!(90)).unwrap(), 90);
    // A unit of several bytes is an error, not a split inside a character.
    for bad in ["10µ", "ч", "", "5 weeks"] {
        let e = seconds("k", &serde_json::json!(bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a duration"), "{bad:?}: {e}");
    }
    assert_eq!(gpu_indices(&serde_json::json!("0, 2")).unwrap(), vec![0, 2]);
    assert_eq!(gpu_indices(&serde_json::json!(1)).unwrap(), vec![1]);
    // An index past u32 is refused, not wrapped round to a small one.
    assert!(gpu_indices(&serde_json::json!([4294967297u64])).is_err());
    let c = archon(
        "searchSpaceFile: s.json\ntrialCommand: t\ntrialConcurrency: 1\ntuner: {name: Random}\n\
         trialGpuNumber: 1\ntrainingService: {platform: local, gpuIndices: [1, 3]}\n",
    );
    assert_eq!(c["training_service"]["gpus"].as_array().unwrap().len(), 2);
}
