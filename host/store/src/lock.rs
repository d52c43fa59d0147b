//! One manager per experiment. A manager (classic or one-shot) holds an exclusive
//! `flock` on `manager.lock` in the experiment folder for as long as it lives; the OS
//! releases it when the process ends, however it ends (kill -9 included), so a stale
//! lock never blocks a `resume`. The file also records the holder's pid, which a
//! refused second manager names.
//!
//! The lock file is opened close-on-exec (Rust's default), so trial processes the
//! manager starts never inherit the lock and cannot keep it alive after the manager
//! dies.

use anyhow::{Context, Result};
use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

/// The lock file's name inside an experiment folder.
pub const LOCK_FILE: &str = "manager.lock";

/// A live manager's hold on an experiment: released when dropped or when the process
/// ends.
#[derive(Debug)]
pub struct ManagerLock {
    // Held open for the lock's life; the OS drops the flock with the descriptor.
    _file: File,
    path: PathBuf,
}

impl ManagerLock {
    /// Takes the experiment in `dir` for this process, or fails naming the pid of the
    /// manager that holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the manager lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder_pid(&mut file)
                    .map(|pid| format!("pid {pid}"))
                    .unwrap_or_else(|| "pid unknown".into());
                let id = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("?")
                    .to_string();
                anyhow::bail!(
                    "experiment {id} is already being run by a live manager ({holder}); \
                     wait for it to finish or stop it with `archon experiment stop {id}` \
                     before running or resuming it again"
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_data()?;
        Ok(ManagerLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether a live manager holds the experiment in `dir` (probed with a shared lock,
/// released at once: a manager's exclusive lock makes the probe fail).
pub fn is_held(dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new().read(true).open(dir.join(LOCK_FILE)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// The pid written by the lock's holder, if it wrote one yet.
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::TempDir::new().unwrap();
        let held = ManagerLock::acquire(dir.path()).unwrap();
        let err = format!("{:#}", ManagerLock::acquire(dir.path()).unwrap_err());
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(held.path().is_file());
        assert!(is_held(dir.path()));
        drop(held);
        assert!(!is_held(dir.path()));
        ManagerLock::acquire(dir.path()).expect("free again after the holder is gone");
    }
}
