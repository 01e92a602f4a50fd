//! `coffer-lazyfs BACKING MOUNTPOINT`: mounts a [`coffer_lazyfs::LazyFs`] over `BACKING/tree` and prints
//! `mounted`. Each `cut` line on stdin cuts the power (every later call fails with EIO,
//! everything not durable is undone) and answers `cut: lost F files' bytes, C creations, R
//! removals, N renames`; at the end of
//! stdin it unmounts and exits. The next mount over the same backing dir is the restart.

use std::io::{BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [backing, mountpoint] = args.as_slice() else {
        eprintln!("usage: coffer-lazyfs BACKING MOUNTPOINT");
        return ExitCode::from(2);
    };
    let mount = match coffer_lazyfs::mount(backing.as_ref(), mountpoint.as_ref()) {
        Ok(mount) => mount,
        Err(err) => {
            eprintln!("coffer-lazyfs: cannot mount {backing} on {mountpoint}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "mounted").and_then(|()| out.flush());
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() != "cut" {
            eprintln!("coffer-lazyfs: unknown command {line:?}");
            continue;
        }
        let answer = match mount.cut() {
            Ok(lost) => format!("cut: lost {lost}"),
            Err(err) => format!("cut failed: {err}"),
        };
        let _ = writeln!(out, "{answer}").and_then(|()| out.flush());
    }
    mount.unmount();
    ExitCode::SUCCESS
}
