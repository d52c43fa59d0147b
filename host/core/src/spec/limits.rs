//! `[limits]` of search and experiment configs: what the found network may cost at
//! most (parameters, multiply-adds per example, latency per image on the search
//! device). One-shot trainers keep their export within them and the host checks the
//! exported network; experiments never run a tuner's proposal over them.

use archon_plugin_api::one_shot::Limits;

/// Checks each limit is a finite number > 0; an error is (the key, e.g.
/// `limits.max_flops`, what is wrong).
pub fn check(limits: &Limits) -> Result<(), (String, String)> {
    for (key, value) in [
        ("max_params", limits.max_params),
        ("max_flops", limits.max_flops),
        ("max_latency_ms", limits.max_latency_ms),
    ] {
        if let Some(v) = value {
            if !(v > 0.0 && v.is_finite()) {
                return Err((
                    format!("limits.{key}"),
                    format!("{v} must be a finite number > 0"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_that_is_not_a_positive_number_is_refused_by_key() {
        let err = |l: Limits| {
            let (key, what) = check(&l).unwrap_err();
            format!("{key}: {what}")
        };
        let e = err(Limits {
            max_flops: Some(0.0),
            ..Limits::default()
        });
        assert!(e.starts_with("limits.max_flops: 0 "), "{e}");
        let e = err(Limits {
            max_latency_ms: Some(f64::NAN),
            ..Limits::default()
        });
        assert!(e.starts_with("limits.max_latency_ms: NaN"), "{e}");
        assert!(check(&Limits {
            max_params: Some(1e5),
            ..Limits::default()
        })
        .is_ok());
    }
}
