//! The camsync command line.

mod cli;
mod report;

fn main() -> std::process::ExitCode {
    // Behave like every Unix filter: when the reader of our output goes away
    // (`camsync run | head`), end quietly instead of failing on a broken pipe.
    // SAFETY: installing the default disposition, before any thread starts.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    cli::main()
}
