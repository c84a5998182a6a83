//! Test shim: the prefork server, built inside the conformance package so that integration tests
//! find it through `env!("CARGO_BIN_EXE_conf-prefork")` (Cargo sets that only for a package's own bins).

fn main() -> std::process::ExitCode {
    mpm_prefork::main()
}
