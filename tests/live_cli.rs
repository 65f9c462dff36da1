//! `camsync live`'s contract for bad input: a configuration mistake names
//! `file:line:col` and exits 2, never a panic; a request to steer a host
//! clock without CAP_SYS_TIME is refused with a message saying why, before
//! anything runs.

use std::process::Command;

const CAMSYNC: &str = env!("CARGO_BIN_EXE_camsync");

fn live(args: &[&str]) -> (i32, String) {
    let out = Command::new(CAMSYNC)
        .arg("live")
        .args(args)
        .output()
        .expect("run camsync");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_config(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "camsync-live-cli-{}-{name}.toml",
        std::process::id()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn live_config_mistakes_exit_2_with_their_location() {
    let (code, err) = live(&["/nonexistent/live.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/nonexistent/live.toml") && err.contains("cannot read"),
        "{err}"
    );

    let p = temp_config(
        "unknown",
        "[network]\ninterface = \"lo\"\n\n[[node]]\nname = \"gm\"\nrole = \"grandmaster\"\npriority = 3\n",
    );
    let (code, err) = live(&[p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}:7:1: unknown field `priority`", p.display())),
        "{err}"
    );

    let p = temp_config(
        "role",
        "[network]\ninterface = \"lo\"\n\n[[node]]\nname = \"x\"\nrole = \"boss\"\n",
    );
    let (code, err) = live(&[p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown variant `boss`"), "{err}");

    let p = temp_config(
        "two-sources",
        "[network]\ninterface = \"lo\"\n\n[[node]]\nname = \"cam\"\nrole = \"camera\"\ncamera = 0\n\
         hub = \"127.0.0.1:5004\"\n",
    );
    let (code, err) = live(&[p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("exactly one of file, device, decklink"),
        "{err}"
    );

    let p = temp_config(
        "ok",
        "[network]\ninterface = \"lo\"\n\n[[node]]\nname = \"gm\"\nrole = \"grandmaster\"\n",
    );
    let (code, err) = live(&[p.to_str().unwrap(), "--node", "nobody"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--node nobody"), "{err}");
    let (code, err) = live(&[p.to_str().unwrap(), "--duration", "-1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn live_refuses_to_steer_a_host_clock_without_the_privilege() {
    let p = temp_config(
        "steer",
        "[network]\ninterface = \"lo\"\n\n[[node]]\nname = \"gm\"\nrole = \"grandmaster\"\n",
    );
    // Without CAP_SYS_TIME: as root, drop it from the bounding set first.
    let root = {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    };
    let out = if root {
        Command::new("setpriv")
            .args([
                "--bounding-set=-sys_time",
                CAMSYNC,
                "live",
                p.to_str().unwrap(),
                "--steer-clock",
                "system",
            ])
            .output()
    } else {
        Command::new(CAMSYNC)
            .args(["live", p.to_str().unwrap(), "--steer-clock", "system"])
            .output()
    }
    .expect("run camsync");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refusing to steer the system clock") && err.contains("CAP_SYS_TIME"),
        "{err}"
    );
    let (code, err) = live(&[p.to_str().unwrap(), "--steer-clock", "eth0"]);
    assert_eq!(code, 2, "{err}");
}
