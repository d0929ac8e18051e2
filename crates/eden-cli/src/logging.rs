//! Log lines go to stderr, results to stdout. By default a log line is just its message, like
//! the seed's; `-v` adds time, level and per-call detail.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbose: bool) {
    let default = if verbose {
        "eden=debug,eden_core=debug,eden_aws=debug,eden_api=debug,aws_smithy_runtime=debug"
    } else {
        "eden=info,eden_core=info,eden_aws=info,eden_api=info"
    };
    let filter = EnvFilter::try_from_env("EDEN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if verbose {
        builder.init();
    } else {
        builder.without_time().with_level(false).init();
    }
}
