//! Output paths (`--save`, `--export-to`, a report's folder) are checked before any
//! work: a training that cannot write its result must not run first.

use std::{ffi::CString, os::unix::ffi::OsStrExt, path::Path};

/// Why a file cannot be written at `path` (none: it can): its folder must exist and be
/// writable, and `path` must not be a folder.
pub fn unwritable(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some(format!("{} is a folder; give a file name", path.display()));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Some(format!(
            "the folder {} does not exist; create it first",
            folder.display()
        ));
    }
    let c = CString::new(folder.as_os_str().as_bytes()).ok()?;
    // SAFETY: access(2) on a NUL-terminated path we own.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
        return Some(format!("the folder {} is not writable", folder.display()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_or_a_folder_as_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(unwritable(&tmp.path().join("model.pt")), None);
        let e = unwritable(&tmp.path().join("missing/dir/model.pt")).unwrap();
        assert!(e.contains("missing/dir does not exist"), "{e}");
        let e = unwritable(tmp.path()).unwrap();
        assert!(e.contains("is a folder"), "{e}");
        assert_eq!(unwritable(Path::new("relative.pt")), None);
    }
}
