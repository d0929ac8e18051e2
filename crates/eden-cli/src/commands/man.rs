use std::path::PathBuf;

use clap::{Arg, ArgMatches, CommandFactory};

use crate::args::Cli;
use crate::Failure;

/// `eden man DIR`, hidden: for packagers, not users.
pub fn command() -> clap::Command {
    clap::Command::new("man")
        .about("Write the man pages, one per command, into a directory (for packagers)")
        .hide(true)
        .arg(
            Arg::new("dir")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf)),
        )
}

/// eden.1 and a page per command (eden-create.1, ...), from the same flags as `--help`, so the
/// packages' man pages never drift from the binary.
pub fn run(args: &ArgMatches) -> Result<(), Failure> {
    // Required: clap has refused the command line without it.
    let Some(dir) = args.get_one::<PathBuf>("dir") else {
        return Ok(());
    };
    let failed = |e: std::io::Error| Failure::Man {
        dir: dir.display().to_string(),
        why: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(failed)
}
