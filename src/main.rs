//! The `mailvault` command line: parses arguments, calls one library function per subcommand,
//! renders the result and maps it to an exit code (docs/cli.md).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mailvault: error: {}", cli::error_text(&err));
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
