//! The `mpm-event` binary: everything is in the library (see `lib.rs` for the map).
fn main() -> std::process::ExitCode {
    mpm_event::main()
}
