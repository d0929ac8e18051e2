use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;

/// `eden completions bash|zsh|fish|...`: the script on stdout, to source or install.
pub fn run(shell: Shell) {
    clap_complete::generate(shell, &mut Cli::command(), "eden", &mut std::io::stdout());
}
