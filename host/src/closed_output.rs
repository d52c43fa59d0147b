//! What `archon` does when its output is closed (`archon … | head -1`), by what the
//! command does:
//! - a command that only prints ([`Policy::Quit`]) ends quietly at the first write to
//!   the closed pipe, as `grep | head` does (SIGPIPE's default action);
//! - a command that works ([`Policy::KeepWorking`]: running an experiment, a search,
//!   a training, a benchmark) must never die of its own output: while standard output
//!   or standard error is a pipe, what it writes there passes through a relay thread,
//!   which forwards it while the reader is there and drops it silently once the reader
//!   is gone — the work goes on and ends as it would have, its store complete.
//!
//! Terminals and files are never relayed: they do not close under a writer.

use std::{os::fd::RawFd, sync::mpsc, thread::JoinHandle, time::Duration};

/// How a command treats a closed output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// End quietly, as a Unix filter does.
    Quit,
    /// Keep working; drop the output nobody reads.
    KeepWorking,
}

/// The relays of standard output and standard error (those that are pipes), until
/// [`finish`](Self::finish).
#[must_use = "call finish() before the process exits, or output still in the relay is lost"]
pub struct Relays {
    relays: Vec<Relay>,
}

struct Relay {
    fd: RawFd,
    /// The original descriptor, put back at the end.
    original: RawFd,
    done: mpsc::Receiver<()>,
    thread: JoinHandle<()>,
}

/// Applies `policy` to standard output and standard error.
pub fn install(policy: Policy) -> Relays {
    match policy {
        Policy::Quit => {
            // SAFETY: restoring a signal's default action; no handler runs.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            Relays { relays: Vec::new() }
        }
        Policy::KeepWorking => Relays {
            relays: [1, 2].into_iter().filter_map(relay).collect(),
        },
    }
}

/// Whether `fd` is a pipe or a socket (a reader that can go away).
fn is_pipe(fd: RawFd) -> bool {
    // SAFETY: fstat on a descriptor number into a zeroed struct we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return false;
    }
    let kind = st.st_mode & libc::S_IFMT;
    kind == libc::S_IFIFO || kind == libc::S_IFSOCK
}

/// Puts a relay between `fd` and its pipe; none when `fd` is not a pipe or the relay
/// cannot be set up (then writes go where they went).
fn relay(fd: RawFd) -> Option<Relay> {
    if !is_pipe(fd) {
        return None;
    }
    // SAFETY: descriptor calls on numbers this function owns or on `fd`; every
    // descriptor made here is close-on-exec, so trial processes never inherit them.
    unsafe {
        let original = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3);
        if original < 0 {
            return None;
        }
        let mut ends = [0; 2];
        if libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            libc::close(original);
            return None;
        }
        let (read_end, write_end) = (ends[0], ends[1]);
        if libc::dup2(write_end, fd) < 0 {
            libc::close(read_end);
            libc::close(write_end);
            libc::close(original);
            return None;
        }
        libc::close(write_end);
        let forward = libc::fcntl(original, libc::F_DUPFD_CLOEXEC, 3);
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            pump(read_end, forward);
            let _ = done_tx.send(());
        });
        Some(Relay {
            fd,
            original,
            done,
            thread,
        })
    }
}

/// Copies `from` to `to` until `from` ends; once `to` fails (its reader is gone),
/// reads on and drops what it reads.
fn pump(from: RawFd, to: RawFd) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut open = to >= 0;
    loop {
        // SAFETY: reading into a buffer we own, from a descriptor this thread owns.
        let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 {
            break;
        }
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        let mut rest = &buf[..n as usize];
        while open && !rest.is_empty() {
            // SAFETY: writing from a buffer we own to a descriptor this thread owns.
            let w = unsafe { libc::write(to, rest.as_ptr().cast(), rest.len()) };
            if w < 0 {
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    open = false;
                }
                continue;
            }
            rest = &rest[w as usize..];
        }
    }
    // SAFETY: closing the descriptors this thread owns.
    unsafe {
        libc::close(from);
        if to >= 0 {
            libc::close(to);
        }
    }
}

impl Relays {
    /// Flushes, gives standard output and error their own descriptors back and waits
    /// (at most a second each) for the relays to forward what they hold.
    pub fn finish(self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        for r in self.relays {
            // SAFETY: putting the saved original back on its number closes the
            // relay's write end there, so the relay reads to its end.
            unsafe {
                libc::dup2(r.original, r.fd);
                libc::close(r.original);
            }
            // A process that inherited the write end could hold it open: bounded wait.
            if r.done.recv_timeout(Duration::from_secs(1)).is_ok() {
                let _ = r.thread.join();
            }
        }
    }
}
