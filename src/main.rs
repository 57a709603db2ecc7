use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = icicle_explorer::cli::parse();
    match icicle_explorer::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One readable line with the whole cause chain; no backtrace for user mistakes.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
