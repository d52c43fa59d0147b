//! Where archon looks for plugins, in order:
//! 1. `--plugin-dir` folders, 2. `ARCHON_PLUGIN_PATH` (a `:`-separated list),
//! 3. the folder beside the `archon` binary, 4. the user's data folder
//!    (`~/.local/share/archon/plugins` on Linux).
//!
//! In the binary's own folder only libraries named `libarchon_*` count (in a cargo
//! build that folder also holds test fixtures and other libraries); everywhere else
//! every shared library is a candidate.

use std::{
    env,
    ffi::OsStr,
    path::{Path, PathBuf},
};

/// One folder to search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDir {
    /// The folder.
    pub path: PathBuf,
    /// Where it came from, for messages.
    pub origin: &'static str,
    /// Only `libarchon_*` libraries count here.
    pub archon_prefix_only: bool,
}

/// The ordered list of plugin folders.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    dirs: Vec<SearchDir>,
}

impl SearchPath {
    /// The search path from the flags, the environment and the standard places.
    pub fn from_env(plugin_dirs: &[PathBuf]) -> Self {
        let mut dirs: Vec<SearchDir> = plugin_dirs
            .iter()
            .map(|p| SearchDir {
                path: p.clone(),
                origin: "--plugin-dir",
                archon_prefix_only: false,
            })
            .collect();
        if let Some(list) = env::var_os("ARCHON_PLUGIN_PATH") {
            dirs.extend(
                env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|path| SearchDir {
                        path,
                        origin: "ARCHON_PLUGIN_PATH",
                        archon_prefix_only: false,
                    }),
            );
        }
        if let Some(dir) = env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
        {
            dirs.push(SearchDir {
                path: dir,
                origin: "beside the archon binary",
                archon_prefix_only: true,
            });
        }
        if let Some(data) = dirs::data_dir() {
            dirs.push(SearchDir {
                path: data.join("archon").join("plugins"),
                origin: "user data folder",
                archon_prefix_only: false,
            });
        }
        SearchPath { dirs }
    }

    /// The folders, in search order.
    pub fn dirs(&self) -> &[SearchDir] {
        &self.dirs
    }

    /// Every candidate library, in search order (each folder sorted by name), once each.
    pub fn candidates(&self) -> Vec<(PathBuf, &SearchDir)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(&dir.path) else {
                tracing::debug!(dir = %dir.path.display(), "plugin folder not readable; skipped");
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_library_name(p, dir.archon_prefix_only) && p.is_file())
                .collect();
            files.sort();
            for file in files {
                let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
                if !seen.contains(&canonical) {
                    seen.push(canonical);
                    out.push((file, dir));
                }
            }
        }
        out
    }
}

/// Whether a file name looks like a shared library (and like an archon plugin where
/// that is required).
fn is_library_name(path: &Path, archon_prefix_only: bool) -> bool {
    if path.extension() != Some(OsStr::new(env::consts::DLL_EXTENSION)) {
        return false;
    }
    let prefix = format!("{}archon_", env::consts::DLL_PREFIX);
    !archon_prefix_only
        || path
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|n| n.starts_with(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        assert!(is_library_name(Path::new("/x/libarchon_random.so"), true));
        assert!(!is_library_name(
            Path::new("/x/libfixture_panicking.so"),
            true
        ));
        assert!(is_library_name(Path::new("/x/libmy_tuner.so"), false));
        assert!(!is_library_name(Path::new("/x/archon"), false));
        assert!(!is_library_name(
            Path::new("/x/libarchon_random.rlib"),
            false
        ));
    }
}
