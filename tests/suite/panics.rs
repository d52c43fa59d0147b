//! A panic inside a loaded plugin comes back as an error in this very process (no
//! abort), and poisons the object it happened in.

use archon::plugins::load;
use archon_plugin_api::{ErrorKind, PluginError, TunerClient};
use archon_tests::library;

const SPACE: &str = r#"{"op": {"_type": "layer_choice", "_value": ["a", "b"]}}"#;
const PARAMS: &str = r#"{"op": {"_value": "a", "_idx": 0}}"#;

fn tuner(options: &str) -> Result<TunerClient, PluginError> {
    let plugin = load(&library("fixture-panicking")).expect("the panicking fixture loads");
    let new_tuner = plugin.module().new_tuner();
    new_tuner(options.into())
        .into_result()
        .map(TunerClient::from_box)
}

fn assert_panic<T>(result: Result<T, PluginError>, method: &str) {
    match result {
        Ok(_) => panic!("{method} returned Ok"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Panic, "{method}: {e}");
            assert!(
                e.message().contains(&format!("fixture panic in {method}")),
                "{method}: {e}"
            );
        }
    }
}

#[test]
fn a_panic_in_the_constructor_is_an_error() {
    assert_panic(tuner("{}"), "new");
}

#[test]
fn a_panic_in_every_method_is_an_error() {
    let fresh = || tuner(r#"{"construct": true}"#).expect("constructs");
    assert_panic(fresh().update_search_space(SPACE), "update_search_space");
    assert_panic(fresh().trial_end(0, true), "trial_end");
    assert_panic(fresh().save_state(), "save_state");
    // These need a search space first, which the fixture cannot take without
    // panicking; they report the poisoned state instead.
    let mut t = fresh();
    assert_panic(t.update_search_space(SPACE), "update_search_space");
    for (method, result) in [
        ("generate_parameters", t.generate_parameters(0).map(|_| ())),
        (
            "receive_trial_result",
            t.receive_trial_result(0, PARAMS, "0.5"),
        ),
        ("load_state", t.load_state("{}")),
    ] {
        let e = result.expect_err(method);
        assert!(matches!(e.kind(), ErrorKind::InvalidState), "{method}: {e}");
    }
}

#[test]
fn a_tuner_that_panicked_is_poisoned() {
    let mut t = tuner(r#"{"construct": true}"#).unwrap();
    assert_panic(t.trial_end(1, true), "trial_end");
    let e = t.trial_end(2, true).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    assert!(
        e.message().contains("panicked earlier (in trial_end)"),
        "{e}"
    );
}
