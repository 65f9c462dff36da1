//! A two-host lab for the live interop tests: two network namespaces joined
//! by a veth pair, and the processes started in them. Everything is torn
//! down when the lab is dropped — processes killed, namespaces (and with
//! them the veth pair) deleted — also when a test fails or panics.
//!
//! Every process runs under `setpriv --bounding-set=-sys_time`: without
//! CAP_SYS_TIME nothing it does can step or slew the host's clock.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// Whether the interop tests can run here; `Err` says why not. Under CI a
/// missing prerequisite is a failure, elsewhere the test is skipped loudly.
pub fn prerequisites() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: network namespaces need it".into());
    }
    for tool in ["ptp4l", "pmc", "ip", "setpriv"] {
        if !Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Err(format!(
                "{tool} not installed (scripts/test installs linuxptp)"
            ));
        }
    }
    Ok(())
}

/// Returns false (and says so) when the test must be skipped; panics under
/// CI, where the prerequisites are the setup's job.
pub fn ready(test: &str) -> bool {
    match prerequisites() {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run under CI: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// The host clock's adjtimex state (offset, frequency), read without
/// changing anything (modes = 0).
pub fn adjtimex_state() -> (i64, i64) {
    // SAFETY: an all-zero `timex` with modes 0 asks only for a reading.
    let mut t: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a valid, writable `timex`.
    let rc = unsafe { libc::adjtimex(&mut t) };
    assert!(rc >= 0, "adjtimex read failed");
    (t.offset as i64, t.freq as i64)
}

pub struct Lab {
    pub ns: [String; 2],
    pub veth: [String; 2],
    pub ip: [&'static str; 2],
    pub dir: PathBuf,
    children: Vec<(String, Child)>,
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        let n = NEXT_LAB.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("camsync-lab-{tag}-{id}"));
        std::fs::create_dir_all(&dir).expect("lab directory");
        let lab = Lab {
            ns: [format!("cs{id}{tag}a"), format!("cs{id}{tag}b")],
            veth: [format!("cs{id}a"), format!("cs{id}b")],
            ip: ["10.231.0.1", "10.231.0.2"],
            dir,
            children: Vec::new(),
        };
        // Constructed first, so a failure below still tears down what exists.
        for ns in &lab.ns {
            ip(&["netns", "add", ns]);
        }
        ip(&[
            "link",
            "add",
            &lab.veth[0],
            "netns",
            &lab.ns[0],
            "type",
            "veth",
            "peer",
            "name",
            &lab.veth[1],
            "netns",
            &lab.ns[1],
        ]);
        for i in 0..2 {
            ip(&[
                "-n",
                &lab.ns[i],
                "addr",
                "add",
                &format!("{}/24", lab.ip[i]),
                "dev",
                &lab.veth[i],
            ]);
            ip(&["-n", &lab.ns[i], "link", "set", &lab.veth[i], "up"]);
            ip(&["-n", &lab.ns[i], "link", "set", "lo", "up"]);
        }
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("lab file");
        p
    }

    /// `program args` to run in host `host` (0 or 1), without CAP_SYS_TIME.
    fn command(&self, host: usize, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns[host]])
            .args(["setpriv", "--bounding-set=-sys_time", program])
            .args(args);
        command
    }

    /// Starts `program args` in host `host` (0 or 1) without CAP_SYS_TIME,
    /// its stdout and stderr into `<label>.log`.
    pub fn spawn(&mut self, host: usize, label: &str, program: &str, args: &[&str]) -> PathBuf {
        let log = self.path(&format!("{label}.log"));
        let out = File::create(&log).expect("log file");
        let child = self
            .command(host, program, args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        self.children.push((label.to_string(), child));
        log
    }

    /// Sends SIGTERM to a started process and waits for it (up to 10 s);
    /// its exit code, or `None` when it had to be killed.
    pub fn terminate(&mut self, label: &str) -> Option<i32> {
        let i = self.children.iter().position(|(l, _)| l == label)?;
        let (_, mut child) = self.children.remove(i);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        for _ in 0..100 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Runs a command to completion in host `host`; its stdout.
    pub fn run(&self, host: usize, program: &str, args: &[&str]) -> String {
        let out = self
            .command(host, program, args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `pmc` against the ptp4l whose UDS is `server`, one management GET.
    pub fn pmc(&self, host: usize, server: &Path, what: &str) -> String {
        let client = self.path(&format!("pmc-{}.sock", what.replace(' ', "_")));
        let _ = std::fs::remove_file(&client);
        self.run(
            host,
            "pmc",
            &[
                "-u",
                "-b",
                "0",
                "-s",
                &server.display().to_string(),
                "-i",
                &client.display().to_string(),
                what,
            ],
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("lab logs kept in {}", self.dir.display());
        }
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {} failed", args.join(" "));
}

/// A field of pmc's output (`name value`), first occurrence.
pub fn pmc_field<'a>(output: &'a str, name: &str) -> Option<&'a str> {
    output.lines().find_map(|l| {
        let mut parts = l.split_whitespace();
        (parts.next() == Some(name)).then(|| parts.next()).flatten()
    })
}

/// Polls `check` every 500 ms for up to `limit`; the first `Some`.
pub fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let tries = (limit.as_millis() / 500).max(1);
    for _ in 0..tries {
        if let Some(v) = check() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    None
}
