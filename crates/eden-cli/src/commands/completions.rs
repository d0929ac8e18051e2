use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::output;

/// `eden completions bash|zsh|fish|...`: the script on stdout, to source or install.
pub fn run(shell: Shell) {
    // Into memory first: clap_complete panics when it cannot write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "eden", &mut script);
    output::write_out(&script);
}
