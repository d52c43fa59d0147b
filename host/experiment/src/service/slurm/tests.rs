//! Unit tests of the Slurm service's pure parts.

use super::{
    output::Output,
    script::{quote, slurm_time},
    state::{finished, outcome},
};
use crate::service::Outcome;
use std::{path::PathBuf, time::Duration};

#[test]
fn slurm_times_and_shell_words() {
    assert_eq!(slurm_time(Duration::from_secs(90)), "1:30");
    assert_eq!(slurm_time(Duration::from_millis(200)), "0:01");
    assert_eq!(quote("it's"), r"'it'\''s'");
    assert!(finished("COMPLETED") && finished("TIMEOUT") && !finished("PENDING"));
}

#[test]
fn slurm_states_map_to_outcomes() {
    let out = |exit: Option<i32>| Output {
        path: PathBuf::new(),
        offset: 0,
        partial: String::new(),
        skip: 0,
        exit_code: exit,
        bad_metric: None,
    };
    let exited = |code| Outcome::Exited {
        code,
        bad_metric: None,
    };
    assert_eq!(
        outcome("COMPLETED", Some(0), &mut out(None), false, false),
        exited(Some(0))
    );
    // The script's exit line wins over Slurm's code.
    assert_eq!(
        outcome("FAILED", Some(1), &mut out(Some(3)), false, false),
        exited(Some(3))
    );
    assert_eq!(
        outcome("FAILED", None, &mut out(None), false, false),
        exited(Some(1))
    );
    assert_eq!(
        outcome("TIMEOUT", None, &mut out(None), false, false),
        Outcome::TimedOut
    );
    assert_eq!(
        outcome("CANCELLED", None, &mut out(None), false, true),
        Outcome::TimedOut
    );
    assert_eq!(
        outcome("CANCELLED by 0", None, &mut out(None), true, false),
        Outcome::Stopped
    );
    for state in ["CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"] {
        let Outcome::SpawnFailed(why) = outcome(state, None, &mut out(None), false, false) else {
            panic!("{state} is not a failure");
        };
        assert!(
            why.contains(state.split('_').next().unwrap()) || why.contains("cancelled"),
            "{state}: {why}"
        );
    }
}
