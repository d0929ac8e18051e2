//! `eden`: the command-line adapter over eden-core. It parses flags, loads the profile, calls the
//! core, and prints; it holds no domain logic.

// Results go through output.rs, which a closed pipe does not make panic.
#![deny(clippy::print_stdout)]

mod args;
mod commands;
mod logging;
mod output;
mod profiles;
mod signals;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command, ConfigCommand};

#[tokio::main]
async fn main() -> ExitCode {
    // `eden man` is for packagers: parsed here, outside `Cli`, so that the completions (made
    // from `Cli`) do not offer it; clap_complete lists hidden commands too.
    let matches = Cli::command()
        .subcommand(commands::man::command())
        .get_matches();
    let result = match matches.subcommand() {
        Some(("man", man)) => commands::man::run(man),
        _ => {
            let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
            logging::init(cli.command.verbose());
            run(cli.command).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Create(args) => Ok(commands::create::run(args).await?),
        Command::Delete(args) => Ok(commands::delete::run(args).await?),
        Command::Ls(args) => Ok(commands::ls::run(args).await?),
        Command::Status(args) => Ok(commands::status::run(args).await?),
        Command::Gc(args) => Ok(commands::gc::run(args).await?),
        Command::IamPolicy(args) => Ok(commands::iam_policy::run(args)?),
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Completions { shell } => {
            commands::completions::run(shell);
            Ok(())
        }
        Command::Config(ConfigCommand::Setup(args)) => Ok(commands::config::setup(args).await?),
        Command::Config(ConfigCommand::Check(args)) => Ok(commands::config::check(args).await?),
        Command::Config(ConfigCommand::Push(args)) => Ok(commands::config::push(args).await?),
        Command::Config(ConfigCommand::Pull(args)) => Ok(commands::config::pull(args).await?),
        Command::Config(ConfigCommand::Ls(args)) => Ok(commands::config::ls(args).await?),
        Command::Config(ConfigCommand::RemoteRm(args)) => {
            Ok(commands::config::remote_rm(args).await?)
        }
    }
}

/// What a command can fail with: eden's own errors, or the server's.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Eden(#[from] eden_core::Error),
    #[error("{0}")]
    Serve(String),
    #[error(
        "could not write the man pages into {dir}: {why}; check that it is a writable directory"
    )]
    Man { dir: String, why: String },
}
