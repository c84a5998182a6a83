use std::process::ExitCode;

fn main() -> ExitCode {
    mpm_prefork::main()
}
