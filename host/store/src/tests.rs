//! The store's round trips.

use super::*;

#[test]
fn trials_metrics_and_tuner_state_round_trip() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.set_meta("name", "x").unwrap();
    store
        .add_trial(0, r#"{"op": {"_idx": 1}}"#, None, "state-0")
        .unwrap();
    assert_eq!(store.start_attempt(0).unwrap(), 1);
    store
        .add_metric(0, 1, 0.5, r#"{"default": 0.5}"#, false)
        .unwrap();
    store
        .add_metric(0, 1, 0.7, r#"{"default": 0.7, "final": true}"#, true)
        .unwrap();
    store
        .finish_trial(0, TrialStatus::Succeeded, Some(0.7), Some(0), None)
        .unwrap();
    store.mark_reported(0, "state-1").unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.meta("name").unwrap().as_deref(), Some("x"));
    let t = &store.trials().unwrap()[0];
    assert_eq!(
        (t.status, t.final_metric, t.reported, t.attempts),
        (TrialStatus::Succeeded, Some(0.7), true, 1)
    );
    assert_eq!(store.metrics(0).unwrap().len(), 2);
    assert_eq!(store.tuner_state().unwrap().as_deref(), Some("state-1"));
}

#[test]
fn old_tuner_checkpoints_are_pruned() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    for i in 0..30u64 {
        store
            .add_trial(i, "{}", None, &format!("state-{i}"))
            .unwrap();
    }
    let kept: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM tuner_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 20);
    assert_eq!(store.tuner_state().unwrap().as_deref(), Some("state-29"));
}
