//! The trial metric protocol: a trial reports one metric per stdout line,
//! `ARCHON_METRIC {"default": 0.93, "step": 3}` (or a bare number). The last metric,
//! or the one with `"final": true`, is the trial's final result. Other lines are logs.

use serde_json::Value;

/// The line prefix.
pub const PREFIX: &str = "ARCHON_METRIC";

/// A parsed metric line.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine {
    /// The value optimised (`default`, or the bare number).
    pub value: f64,
    /// The JSON as reported.
    pub raw: String,
    /// Whether the trial marked it final.
    pub is_final: bool,
}

/// `None` for an ordinary log line; `Some(Err(why))` for a malformed metric line.
pub fn parse_line(line: &str) -> Option<Result<MetricLine, String>> {
    let rest = line.trim_end().strip_prefix(PREFIX)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let json = rest.trim();
    let parsed: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            return Some(Err(format!(
                "metric line {line:?} is not `{PREFIX} <JSON>`: {e}"
            )))
        }
    };
    let value = match &parsed {
        Value::Number(n) => n.as_f64(),
        Value::Object(m) => m.get("default").and_then(Value::as_f64),
        _ => None,
    };
    let Some(value) = value.filter(|v| v.is_finite()) else {
        return Some(Err(format!("metric line {line:?}: expected a number or an object with a finite numeric \"default\"")));
    };
    let is_final = parsed
        .get("final")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some(Ok(MetricLine {
        value,
        raw: json.to_string(),
        is_final,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines() {
        assert_eq!(parse_line("epoch 3 done"), None);
        assert_eq!(parse_line("ARCHON_METRICS 3"), None);
        let m = parse_line(r#"ARCHON_METRIC {"default": 0.93, "step": 3}"#)
            .unwrap()
            .unwrap();
        assert_eq!((m.value, m.is_final), (0.93, false));
        let m = parse_line("ARCHON_METRIC 0.5").unwrap().unwrap();
        assert_eq!(m.value, 0.5);
        assert!(
            parse_line(r#"ARCHON_METRIC {"default": 1, "final": true}"#)
                .unwrap()
                .unwrap()
                .is_final
        );
        assert!(parse_line("ARCHON_METRIC {oops")
            .unwrap()
            .unwrap_err()
            .contains("is not `ARCHON_METRIC <JSON>`"));
        assert!(parse_line(r#"ARCHON_METRIC {"acc": 1}"#)
            .unwrap()
            .unwrap_err()
            .contains("numeric \"default\""));
    }
}
