//! The `gridbook` binary. Everything lives in the library, so that the tests and the bench reach
//! the same code the command line runs.

fn main() -> std::process::ExitCode {
    gridbook_cli::run(std::env::args_os())
}
