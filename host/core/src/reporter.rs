//! The one way the library reports to whoever runs it: events for the run (notes),
//! epochs, trials, trial-protocol metrics, progress and warnings. The CLI renders them as text
//! ([`Terminal`], installed by default: notes, epochs and metrics on stdout, trials,
//! progress and warnings on stderr); an embedder (a test, the web UI, a future binding) installs
//! its own [`Reporter`] with [`set`]; every event is also recorded by `tracing`.
//! Nothing else in the library writes to stdout or stderr (a test checks it).

use std::sync::{Arc, RwLock};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A fact about the run: data loaded, a plan, an export written, a result.
    Note(&'a str),
    /// An epoch of a training or a search finished.
    Epoch(&'a str),
    /// A trial changed state (ended, retried, followed again).
    Trial {
        /// The trial.
        id: u64,
        /// What happened, as one line.
        line: &'a str,
    },
    /// A line of the trial protocol (`ARCHON_METRIC {…}`), read by the manager.
    Metric(&'a str),
    /// Where a long run is (resuming, waiting): shown beside the output, not in it.
    Progress(&'a str),
    /// Something the user should know that did not stop the run.
    Warning(&'a str),
}

/// Receives every event.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn report(&self, event: &Event<'_>);
}

/// The CLI's rendering: today's text on today's streams.
#[derive(Debug, Default)]
pub struct Terminal;

impl Reporter for Terminal {
    fn report(&self, event: &Event<'_>) {
        match *event {
            Event::Note(text) | Event::Epoch(text) | Event::Metric(text) => println!("{text}"),
            Event::Trial { line, .. } | Event::Progress(line) => eprintln!("{line}"),
            Event::Warning(text) => eprintln!("warning: {text}"),
        }
    }
}

static CURRENT: RwLock<Option<Arc<dyn Reporter>>> = RwLock::new(None);

/// Installs `reporter` for every later event (of every thread).
pub fn set(reporter: Arc<dyn Reporter>) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(reporter);
}

/// Reports `event` to the installed reporter (the terminal when none is) and to
/// `tracing`.
pub fn report(event: Event<'_>) {
    tracing::debug!(?event, "report");
    let current = CURRENT.read().unwrap_or_else(|e| e.into_inner()).clone();
    match current {
        Some(r) => r.report(&event),
        None => Terminal.report(&event),
    }
}

/// Reports a note.
pub fn note(text: impl AsRef<str>) {
    report(Event::Note(text.as_ref()));
}

/// Reports a finished epoch.
pub fn epoch(text: impl AsRef<str>) {
    report(Event::Epoch(text.as_ref()));
}

/// Reports a trial's change.
pub fn trial(id: u64, line: impl AsRef<str>) {
    report(Event::Trial {
        id,
        line: line.as_ref(),
    });
}

/// Reports a trial-protocol metric line.
pub fn metric(text: impl AsRef<str>) {
    report(Event::Metric(text.as_ref()));
}

/// Reports progress.
pub fn progress(text: impl AsRef<str>) {
    report(Event::Progress(text.as_ref()));
}

/// Reports a warning (rendered with a `warning: ` prefix).
pub fn warning(text: impl AsRef<str>) {
    report(Event::Warning(text.as_ref()));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Only the CLI writes to the terminal: no `println!`, `eprintln!`, `print!` or
    /// `eprint!` in the host's crates, the spaces and the plugin libraries outside the CLI
    /// crate's commands, `main.rs` and the terminal reporter above (tests excepted).
    #[test]
    fn the_library_never_prints() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut offenders = Vec::new();
        for dir in [
            "host/src",
            "host/core/src",
            "host/store/src",
            "host/experiment/src",
            "host/search/src",
            "host/view/src",
            "host/bench/src",
            "spaces/src",
            "plugin-api/src",
            "plugin-support/src",
        ] {
            scan(&root.join(dir), &mut offenders);
        }
        assert!(offenders.is_empty(), "the library prints: {offenders:#?}");
    }

    fn scan(dir: &Path, offenders: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("host/src/commands") {
                    scan(&path, offenders);
                }
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !name.ends_with(".rs") || ["main.rs", "reporter.rs", "tests.rs"].contains(&name) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules may print.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, line) in code.lines().enumerate() {
                let l = line.trim_start();
                if l.starts_with("//") {
                    continue;
                }
                if ["println!(", "eprintln!(", "print!(", "eprint!("]
                    .iter()
                    .any(|m| l.contains(m))
                {
                    offenders.push(format!("{}:{}", path.display(), i + 1));
                }
            }
        }
    }
}
