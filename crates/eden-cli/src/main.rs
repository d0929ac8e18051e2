//! `eden`: the command-line adapter over eden-core. It parses flags, loads the profile, calls the
//! core, and prints; it holds no domain logic.

mod args;
mod commands;
mod logging;
mod profiles;
mod signals;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, ConfigCommand};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.command.verbose());
    let result = match cli.command {
        Command::Create(args) => commands::create::run(args).await,
        Command::Delete(args) => commands::delete::run(args).await,
        Command::Ls(args) => commands::ls::run(args).await,
        Command::IamPolicy(args) => commands::iam_policy::run(args),
        Command::Config(ConfigCommand::Setup(args)) => commands::config::setup(args),
        Command::Config(ConfigCommand::Check(args)) => commands::config::check(args),
        Command::Config(ConfigCommand::Push(args)) => commands::config::push(args).await,
        Command::Config(ConfigCommand::Pull(args)) => commands::config::pull(args).await,
        Command::Config(ConfigCommand::Ls(args)) => commands::config::ls(args).await,
        Command::Config(ConfigCommand::RemoteRm(args)) => commands::config::remote_rm(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
