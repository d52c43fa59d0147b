//! Errors as a user reads them: every cause of the chain, with libtorch's C++ frames
//! and Rust's debug forms (`Os { code: 2, … }`, `Torch("…")`) turned into their
//! message. `-v` or `RUST_BACKTRACE` shows the raw text instead.

/// The error chain (`a: b: c`), readable.
pub fn render(err: &anyhow::Error, raw: bool) -> String {
    let text = format!("{err:#}");
    if raw {
        return text;
    }
    clean(&text)
}

/// `text` without C++ frames and with Rust debug forms replaced by their message.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        // libtorch's own trace: "Exception raised from … (most recent call first):",
        // then "frame #N: …" lines.
        if trimmed.starts_with("frame #") {
            continue;
        }
        let line = match line.find("Exception raised from ") {
            Some(at) => line[..at].trim_end(),
            None => line,
        };
        if line.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&debug_forms(line));
    }
    out.trim_end().to_string()
}

/// Replaces `Os { code: 2, kind: NotFound, message: "No such file or directory" }`
/// by its message, `Torch("m")` and `IoError(e)` by their insides, and drops
/// "Internal torch error: ".
fn debug_forms(line: &str) -> String {
    let mut s = line.replace("Internal torch error: ", "");
    while let Some(start) = s.find("Os {") {
        let Some(len) = s[start..].find('}') else {
            break;
        };
        let inner = &s[start..start + len];
        let message = inner
            .split("message: \"")
            .nth(1)
            .and_then(|m| m.split('"').next())
            .unwrap_or("an operating-system error")
            .to_string();
        s.replace_range(start..=start + len, &message);
    }
    for wrapper in ["IoError(", "Torch(", "Io("] {
        while let Some(start) = s.find(wrapper) {
            let open = start + wrapper.len() - 1;
            let Some(close) = closing_paren(&s, open) else {
                break;
            };
            let inner = s[open + 1..close].trim_matches('"').to_string();
            s.replace_range(start..=close, &inner);
        }
    }
    s
}

/// The index of the `)` that closes the `(` at `open`.
fn closing_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `text` still holds what a user must never see: C++ frames or Rust debug
/// forms (what the hostile-input suite asserts).
pub fn has_internal_text(text: &str) -> bool {
    [
        "Os {",
        "Torch(",
        "IoError(",
        "frame #",
        "Exception raised from",
        "c10::",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_debug_forms_give_way_to_their_message() {
        let torch = "training: Internal torch error: shape '[8, 3]' is invalid for input of size 10\n\
                     Exception raised from view_impl at aten/src/ATen/native/TensorShape.cpp:3570 (most recent call first):\n\
                     frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9d (0x7f in libc10.so)\n\
                     frame #1: at::native::view(at::Tensor const&) + 0x12 (0x7f in libtorch_cpu.so)";
        let text = clean(torch);
        assert_eq!(
            text,
            "training: shape '[8, 3]' is invalid for input of size 10"
        );
        assert!(!has_internal_text(&text));
        let io = "saving the weights: IoError(Os { code: 2, kind: NotFound, message: \"No such file or directory\" })";
        assert_eq!(clean(io), "saving the weights: No such file or directory");
        assert_eq!(
            clean("plain: words (and parens)"),
            "plain: words (and parens)"
        );
        let quoted = "loading: Torch(\"bad header\")";
        assert_eq!(clean(quoted), "loading: bad header");
    }
}
