//! Progress bars for the loops a person waits for (training epochs, search steps).
//! A bar draws only on a terminal: when stderr is a file or a pipe (a log, CI, a
//! trial's stderr.log) it stays hidden, and the per-epoch lines printed beside it are
//! the whole record — no carriage returns or padding end up in the log.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar with `template`, hidden when `quiet` or when stderr is not a terminal.
pub fn bar(template: &str, quiet: bool) -> Result<ProgressBar> {
    let bar = ProgressBar::with_draw_target(Some(0), draw_target(quiet));
    bar.set_style(ProgressStyle::with_template(template)?.progress_chars("=> "));
    Ok(bar)
}

/// Where a bar draws: stderr on a terminal, nowhere otherwise.
fn draw_target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}
