fn main() -> std::process::ExitCode {
    mpm_worker::main()
}
