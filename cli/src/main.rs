fn main() -> std::process::ExitCode {
    gridbook_cli::run(std::env::args_os())
}
