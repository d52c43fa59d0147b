//! An experiment's `name`: the prefix of its id and of its folder in the runs folder,
//! so it must be one safe path component — never a path out of `--runs-dir`, never
//! something the command line reads as a flag.

/// The most characters of a name.
pub const MAX_LEN: usize = 64;

/// What is wrong with `name` as an experiment name (none: it is fine).
pub fn problem(name: &str) -> Option<String> {
    let rule = "use letters, digits, '.', '_' and '-', starting with a letter or digit \
                (it names a folder in the runs folder)";
    if name.is_empty() {
        return Some(format!("an empty name; {rule}"));
    }
    if name.chars().count() > MAX_LEN {
        return Some(format!("{name:?} is longer than {MAX_LEN} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some(format!(
            "{name:?} does not start with a letter or digit; {rule}"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!("{name:?} holds {c:?}; {rule}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_safe_path_component() {
        for good in ["exp", "darts-fmnist", "run_2.b"] {
            assert_eq!(problem(good), None, "{good}");
        }
        for (bad, needle) in [
            ("", "empty"),
            ("../../../tmp/x", "does not start"),
            ("/tmp/x", "does not start"),
            ("sub/dir", "holds '/'"),
            ("-rf", "does not start"),
            (".hidden", "does not start"),
            ("a b", "holds ' '"),
        ] {
            let e = problem(bad).unwrap();
            assert!(e.contains(needle), "{bad}: {e}");
        }
        assert!(problem(&"x".repeat(65)).unwrap().contains("longer than 64"));
    }
}
