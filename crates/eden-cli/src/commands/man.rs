use std::path::Path;

use clap::CommandFactory;

use crate::args::Cli;
use crate::Failure;

/// `eden man DIR`: eden.1 and a page per command (eden-create.1, ...), from the same flags as
/// `--help`, so the packages' man pages never drift from the binary.
pub fn run(dir: &Path) -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::Man {
        dir: dir.display().to_string(),
        why: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(failed)
}
