//! The tuner checks.

use super::{fixtures, report::ConformanceReport};
use crate::{
    error::{ErrorKind, PluginError, Result},
    space::{Architecture, SearchSpace},
    tuner::TunerClient,
};
use serde_json::Value;
use std::collections::HashSet;

/// Creates a tuner from options given as JSON text (a loaded plugin's `new_tuner`, or
/// [`TunerClient::in_process`]).
pub type TunerFactory<'a> = dyn Fn(&str) -> Result<TunerClient> + 'a;

type Check = fn(&TunerFactory<'_>) -> std::result::Result<String, String>;

/// Runs every tuner check against tuners made by `factory`.
///
/// Tuners must accept a `"seed"` option (a whole number): the kit uses it for the
/// determinism and state checks.
pub fn check_tuner(factory: &TunerFactory<'_>) -> ConformanceReport {
    let checks: [(&str, Check); 9] = [
        ("valid parameters on fixture spaces", valid_parameters),
        ("large space", large_space),
        ("deterministic under a seed", deterministic),
        ("results and trial ends in any order", any_order),
        ("state save/restore round trip", state_round_trip),
        ("errors, not panics, on bad input", bad_input),
        ("no more trials once exhausted", exhaustion),
        ("numeric types: read or refused by name", numeric_types),
        ("results of trials it did not propose", foreign_results),
    ];
    let mut report = ConformanceReport::default();
    for (name, check) in checks {
        report.record(name, check(factory));
    }
    report
}

/// Formats a plugin error for a report, saying loudly if it was a panic.
fn show(e: &PluginError) -> String {
    if e.kind() == ErrorKind::Panic {
        format!("PANIC: {}", e.message())
    } else {
        e.to_string()
    }
}

fn ctx<T>(what: &str, r: Result<T>) -> std::result::Result<T, String> {
    r.map_err(|e| format!("{what}: {}", show(&e)))
}

fn tuner_on(
    factory: &TunerFactory<'_>,
    seed: u64,
    space: &str,
) -> std::result::Result<TunerClient, String> {
    let mut t = ctx(
        "creating the tuner",
        factory(&format!(r#"{{"seed": {seed}}}"#)),
    )?;
    ctx("update_search_space", t.update_search_space(space))?;
    Ok(t)
}

/// Asks for `n` parameters with ids `first..`; each must be a valid architecture.
fn generate(
    t: &mut TunerClient,
    space: &SearchSpace,
    first: u64,
    n: u64,
) -> std::result::Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for id in first..first + n {
        match ctx("generate_parameters", t.generate_parameters(id))? {
            Some(p) => {
                Architecture::from_json(space, &p).map_err(|e| {
                    format!("parameters {p} for id {id} are invalid: {}", e.message())
                })?;
                out.push(p);
            }
            None => break,
        }
    }
    Ok(out)
}

fn parse(json: &str) -> SearchSpace {
    SearchSpace::from_json_str(json).expect("conformance fixtures are valid")
}

fn valid_parameters(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let mut seen = Vec::new();
    for fixture in fixtures::FIXED {
        let space = parse(fixture.json);
        let mut t = tuner_on(factory, 1, fixture.json)?;
        let n = fixture.size.unwrap_or(20).min(20) as u64;
        let got = generate(&mut t, &space, 0, n).map_err(|e| format!("{}: {e}", fixture.name))?;
        if got.is_empty() {
            return Err(format!(
                "{}: the tuner generated nothing on a fresh space",
                fixture.name
            ));
        }
        seen.push(format!("{} ({})", fixture.name, got.len()));
    }
    Ok(format!("valid on {}", seen.join(", ")))
}

fn large_space(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let json = fixtures::large_space();
    let space = parse(&json);
    let mut t = tuner_on(factory, 2, &json)?;
    let got = generate(&mut t, &space, 0, 50)?;
    if got.len() != 50 {
        return Err(format!(
            "only {} of 50 parameters on a space of 8^60 architectures",
            got.len()
        ));
    }
    Ok("50 valid parameters from 8^60 architectures".into())
}

fn deterministic(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let json = fixtures::INPUT_CHOICES.json;
    let space = parse(json);
    let a = generate(&mut tuner_on(factory, 7, json)?, &space, 0, 10)?;
    let b = generate(&mut tuner_on(factory, 7, json)?, &space, 0, 10)?;
    if a != b {
        return Err("two tuners with seed 7 generated different parameters".into());
    }
    Ok(format!("seed 7 gave the same {} parameters twice", a.len()))
}

fn any_order(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let json = fixtures::PLAIN_CHOICES.json;
    let space = parse(json);
    let mut t = tuner_on(factory, 3, json)?;
    let p = generate(&mut t, &space, 0, 4)?;
    if p.len() < 4 {
        return Err("fewer than 4 parameters on a 24-architecture space".into());
    }
    ctx("trial_end before its result", t.trial_end(1, true))?;
    ctx(
        "result after trial_end",
        t.receive_trial_result(1, &p[1].to_string(), "0.5"),
    )?;
    ctx(
        "result",
        t.receive_trial_result(0, &p[0].to_string(), r#"{"default": 0.7, "loss": 1.2}"#),
    )?;
    ctx("trial_end after its result", t.trial_end(0, true))?;
    ctx(
        "trial_end of a failed trial without result",
        t.trial_end(3, false),
    )?;
    ctx(
        "result of a late trial",
        t.receive_trial_result(2, &p[2].to_string(), "0.1"),
    )?;
    generate(&mut t, &space, 4, 2)?;
    Ok("accepted results and trial ends in mixed order, then generated more".into())
}

/// The host runs trials the tuner did not propose (the proxy pre-filter's picks) and
/// reports their results like any other, with ids the tuner never gave out: the tuner
/// learns from `parameters` or ignores them, and goes on.
fn foreign_results(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let json = fixtures::PLAIN_CHOICES.json;
    let space = parse(json);
    let mut t = tuner_on(factory, 4, json)?;
    for (k, id) in (100..104u64).enumerate() {
        let arch = space
            .architecture_at(k as u128 * 5)
            .ok_or("fixture: PLAIN_CHOICES has 24 architectures")?
            .to_json(&space)
            .to_string();
        ctx(
            &format!("result of trial {id}, which the tuner did not propose"),
            t.receive_trial_result(id, &arch, &format!("{}", 0.5 + 0.1 * k as f64)),
        )?;
        ctx(&format!("trial_end of trial {id}"), t.trial_end(id, true))?;
    }
    let got = generate(&mut t, &space, 0, 4)?;
    if got.is_empty() {
        return Err("generated nothing after results of trials it did not propose".into());
    }
    let state = ctx("save_state", t.save_state())?;
    let mut restored = tuner_on(factory, 4, json)?;
    ctx("load_state", restored.load_state(&state))?;
    generate(&mut restored, &space, 4, 2)?;
    Ok(format!(
        "took 4 results of trials it did not propose, then generated {} more",
        got.len()
    ))
}

fn state_round_trip(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let json = fixtures::INPUT_CHOICES.json;
    let space = parse(json);
    let mut a = tuner_on(factory, 11, json)?;
    let first = generate(&mut a, &space, 0, 5)?;
    for (i, p) in first.iter().enumerate() {
        ctx(
            "receive_trial_result",
            a.receive_trial_result(i as u64, &p.to_string(), &format!("{}", i as f64 / 10.0)),
        )?;
        ctx("trial_end", a.trial_end(i as u64, true))?;
    }
    let state = ctx("save_state", a.save_state())?;
    let mut b = tuner_on(factory, 99, json)?;
    ctx("load_state", b.load_state(&state))?;
    let next_a = generate(&mut a, &space, 5, 10)?;
    let next_b = generate(&mut b, &space, 5, 10)?;
    if next_a != next_b {
        return Err(
            "after load_state the restored tuner generated different parameters than the original"
                .into(),
        );
    }
    let again = ctx("save_state after restore", b.save_state())?;
    if serde_json::from_str::<Value>(&again).is_err() {
        return Err("save_state after restore is not JSON".into());
    }
    Ok(format!(
        "restored tuner continued identically for {} trials ({} bytes of state)",
        next_a.len(),
        state.len()
    ))
}

/// The call must fail with an ordinary (non-panic) error.
fn must_reject<T>(what: &str, r: Result<T>) -> std::result::Result<(), String> {
    match r {
        Ok(_) => Err(format!("{what}: accepted instead of returning an error")),
        Err(e) if e.kind() == ErrorKind::Panic => Err(format!("{what}: {}", show(&e))),
        Err(_) => Ok(()),
    }
}

fn bad_input(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    must_reject("options that are not JSON", factory("{seed: 1"))?;
    must_reject("a seed that is not a number", factory(r#"{"seed": "abc"}"#))?;
    must_reject(
        "an unknown option",
        factory(r#"{"seed": 1, "no_such_option": true}"#),
    )?;

    let mut t = ctx("creating the tuner", factory(r#"{"seed": 5}"#))?;
    must_reject(
        "generate_parameters before any search space",
        t.generate_parameters(0),
    )?;
    for (what, space) in [
        ("a search space that is not JSON", "{\"op\": "),
        ("a search space that is an array", "[1, 2]"),
        (
            "an unknown _type",
            r#"{"op": {"_type": "unifrom", "_value": [0, 1]}}"#,
        ),
        (
            "an empty candidate list",
            r#"{"op": {"_type": "layer_choice", "_value": []}}"#,
        ),
        (
            "n_chosen above the candidates",
            r#"{"in": {"_type": "input_choice", "_value": {"candidates": ["a"], "n_chosen": 2}}}"#,
        ),
    ] {
        must_reject(what, t.update_search_space(space))?;
    }
    let json = fixtures::SMALL_MIXED.json;
    let space = parse(json);
    ctx(
        "update_search_space after bad ones",
        t.update_search_space(json),
    )?;
    let p = generate(&mut t, &space, 0, 1)?;
    let p = p
        .first()
        .ok_or("no parameters on a valid space after bad ones")?
        .to_string();
    must_reject(
        "parameters that are not JSON",
        t.receive_trial_result(0, "{", "0.5"),
    )?;
    must_reject(
        "parameters with an unknown choice",
        t.receive_trial_result(0, r#"{"nope": {"_value": 1, "_idx": 0}}"#, "0.5"),
    )?;
    must_reject(
        "an index out of range",
        t.receive_trial_result(
            0,
            r#"{"op": {"_value": "conv", "_idx": 9}, "in": {"_value": ["x0"], "_idx": [0]}}"#,
            "0.5",
        ),
    )?;
    must_reject(
        "a metric that is a string",
        t.receive_trial_result(0, &p, "\"good\""),
    )?;
    must_reject(
        "a metric object without default",
        t.receive_trial_result(0, &p, r#"{"acc": 0.5}"#),
    )?;
    must_reject("a saved state that is not JSON", t.load_state("not json"))?;
    must_reject(
        "a saved state of the wrong shape",
        t.load_state("[1, 2, 3]"),
    )?;
    ctx(
        "a valid result after bad input",
        t.receive_trial_result(0, &p, "0.5"),
    )?;
    generate(&mut t, &space, 1, 1)?;
    Ok("rejected 17 malformed inputs with errors and kept working".into())
}

fn exhaustion(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    for fixture in [fixtures::SMALL_MIXED, fixtures::SINGLETON] {
        let size = fixture.size.unwrap_or_default() as u64;
        let space = parse(fixture.json);
        let mut t = tuner_on(factory, 4, fixture.json)?;
        let limit = size * 10;
        let got = generate(&mut t, &space, 0, limit)?;
        if got.len() as u64 >= limit {
            return Err(format!(
                "{}: still generating after {limit} trials on a space of {size} architectures",
                fixture.name
            ));
        }
        let distinct: HashSet<String> = got.iter().map(Value::to_string).collect();
        if distinct.len() as u64 != size {
            return Err(format!(
                "{}: stopped after {} distinct of {size} architectures",
                fixture.name,
                distinct.len()
            ));
        }
        for id in limit..limit + 3 {
            if ctx(
                "generate_parameters after exhaustion",
                t.generate_parameters(id),
            )?
            .is_some()
            {
                return Err(format!(
                    "{}: generated parameters again after saying no more trials",
                    fixture.name
                ));
            }
        }
    }
    Ok("said no more trials after every architecture of 6- and 1-architecture spaces".into())
}

/// A tuner either reads NNI's numeric types — valid, varied parameters whose state
/// survives a round trip — or refuses the space naming a parameter it does not read.
fn numeric_types(factory: &TunerFactory<'_>) -> std::result::Result<String, String> {
    let fixture = fixtures::NUMERIC;
    let space = parse(fixture.json);
    let mut t = ctx("creating the tuner", factory(r#"{"seed": 5}"#))?;
    if let Err(e) = t.update_search_space(fixture.json) {
        let named = space
            .choices()
            .iter()
            .any(|c| c.is_numeric() || c.is_nested() || c.type_name() == "randint")
            && e.message().contains("does not support");
        return if named && e.kind() != ErrorKind::Panic {
            Ok(format!("refused by name: {}", e.message()))
        } else {
            Err(format!(
                "refused the numeric space without naming the unsupported type: {}",
                show(&e)
            ))
        };
    }
    let got = generate(&mut t, &space, 0, 30)?;
    if got.len() != 30 {
        return Err(format!("only {} of 30 parameters", got.len()));
    }
    let lrs: HashSet<String> = got.iter().map(|p| p["lr"]["_value"].to_string()).collect();
    if lrs.len() < 10 {
        return Err(format!(
            "30 proposals held only {} different learning rates",
            lrs.len()
        ));
    }
    for (id, p) in got.iter().enumerate() {
        ctx(
            "receive_trial_result",
            t.receive_trial_result(id as u64, &p.to_string(), &format!("{}", id % 7)),
        )?;
    }
    let state = ctx("save_state", t.save_state())?;
    let mut restored = ctx("creating the tuner", factory(r#"{"seed": 5}"#))?;
    ctx(
        "update_search_space",
        restored.update_search_space(fixture.json),
    )?;
    ctx("load_state", restored.load_state(&state))?;
    let a = generate(&mut t, &space, 30, 5)?;
    let b = generate(&mut restored, &space, 30, 5)?;
    if a != b {
        return Err("a restored tuner proposed other numbers than the original".into());
    }
    Ok(format!(
        "30 valid parameters over {} types ({} different learning rates); state round trip",
        space.choices().len(),
        lrs.len()
    ))
}
