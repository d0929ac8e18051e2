//! The command line, as the seed's `eden` has it: same commands, same flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use eden_core::profile::{Key, DEFAULT_PROFILE};
use eden_core::Error;

#[derive(Debug, Parser)]
#[command(
    name = "eden",
    version,
    about = "ECS Dynamic Environment Manager. Clone Amazon ECS environments easily."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create environment or deploy to existent
    Create(CreateArgs),
    /// Delete environment
    Delete(DeleteArgs),
    /// List existing environments
    Ls(LsArgs),
    /// Show every resource of an environment with its state
    Status(StatusArgs),
    /// Delete expired environments (and with --orphans, what eden left behind)
    Gc(GcArgs),
    /// Configure eden
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the least-privilege IAM policy a profile needs
    IamPolicy(IamPolicyArgs),
    /// Serve the HTTP API (keys from EDEN_API_KEYS or --api-keys-file)
    Serve(ServeArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Setup profiles for other commands
    Setup(SetupArgs),
    /// Check configuration file integrity
    Check(CheckArgs),
    /// Push local profile to DynamoDB for use by eden API
    Push(RemoteArgs),
    /// Pull a remote profile from DynamoDB into the configuration file
    Pull(RemoteArgs),
    /// List local and remote profiles
    Ls(ConfigLsArgs),
    /// Delete remote profile from DynamoDB
    RemoteRm(RemoteArgs),
}

/// Switches every command has.
#[derive(Debug, Args)]
pub struct Common {
    /// eden configuration file path
    #[arg(
        short = 'c',
        long,
        default_value = "~/.eden/config",
        env = "EDEN_CONFIG"
    )]
    pub config_path: String,
    /// Per-call detail in the log
    #[arg(short, long)]
    pub verbose: bool,
}

impl Common {
    /// The config path with `~` expanded. An unset or empty HOME is an error: the path would
    /// otherwise be read from (or written to) whatever the current directory is.
    pub fn config_file(&self) -> Result<PathBuf, Error> {
        let Some(rest) = self.config_path.strip_prefix("~/") else {
            return Ok(PathBuf::from(&self.config_path));
        };
        match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
            Some(home) => Ok(PathBuf::from(home).join(rest)),
            None => Err(Error::ConfigFile {
                path: self.config_path.clone(),
                why: "HOME is unset or empty; set HOME or pass the file with -c or EDEN_CONFIG"
                    .into(),
            }),
        }
    }
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people, as the seed prints them
    Text,
    /// One JSON document, for CI
    Json,
}

#[derive(Debug, Args)]
pub struct Output {
    /// Result format on stdout (logs stay on stderr)
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct Table {
    /// Remote DynamoDB table name
    #[arg(long, default_value = "eden", env = "EDEN_TABLE")]
    pub remote_table_name: String,
}

#[derive(Debug, Args)]
pub struct ProfileName {
    /// profile name in eden configuration file
    #[arg(short, long, default_value = DEFAULT_PROFILE)]
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
    /// Environment name (branch name etc.)
    #[arg(long)]
    pub name: String,
    /// Image URI to deploy (ECR repository path, image name and tag)
    #[arg(long)]
    pub image_uri: String,
    /// Set an environment variable of the target container, for this environment only
    #[arg(long, value_name = "KEY=VALUE")]
    pub set_env: Vec<String>,
    /// Delete the environment this long after its last create or deploy (30s, 90m, 12h, 3d);
    /// `eden gc` sweeps expired ones
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Wait until the new deployment has rolled out, its targets are healthy and a new host name
    /// has reached every Route 53 name server
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (30s, 10m, 1h)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10m",
        requires = "wait"
    )]
    pub timeout: String,
    /// Print what would be made, changed or removed, and change nothing
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
    #[command(flatten)]
    pub keys: ProfileKeys,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
    /// Environment name (branch name etc.)
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub keys: ProfileKeys,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only this profile (default: every profile in the config file)
    #[arg(short, long)]
    pub profile: Option<String>,
    /// Also remove resources tagged by eden that belong to no environment in the state table
    #[arg(long)]
    pub orphans: bool,
    /// List what would be removed, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
    /// Environment name (branch name etc.)
    #[arg(long)]
    pub name: String,
    /// Print what would be made, changed or removed, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub keys: ProfileKeys,
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
    #[command(flatten)]
    pub keys: ProfileKeys,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// File with the accepted API keys, one per line (else EDEN_API_KEYS, comma-separated)
    #[arg(long, value_name = "PATH")]
    pub api_keys_file: Option<PathBuf>,
    #[command(flatten)]
    pub table: Table,
    /// Per-call detail in the log
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only this profile's environments
    #[arg(short, long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    /// Also look up in AWS what the profile leaves out and AWS has (master_listener_arn,
    /// reference_target_group_arn, dynamic_zone_name), and warn of what AWS lacks
    #[arg(long)]
    pub aws: bool,
    #[command(flatten)]
    pub table: Table,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub keys: ProfileKeys,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check only this profile (default: every profile in the file)
    #[arg(short, long)]
    pub profile: Option<String>,
    /// Also check the profile's prerequisites in AWS (reference service, ALB, certificate...)
    #[arg(long)]
    pub aws: bool,
    /// With --aws: write what AWS has for the keys the profile gets wrong or leaves out
    /// (master_listener_arn, reference_target_group_arn, dynamic_zone_name) into the file
    #[arg(long, requires = "aws")]
    pub fix: bool,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub table: Table,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RemoteArgs {
    #[command(flatten)]
    pub profile: ProfileName,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
}

#[derive(Debug, Args)]
pub struct ConfigLsArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub table: Table,
}

/// Every profile key as a flag, in the 0.1.x spelling and the seed's `--endpoint-*` spelling.
#[derive(Debug, Args, Default)]
pub struct ProfileKeys {
    /// Prefix of the task definition, target group and service names
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Option<String>,
    /// ARN of the ECS service to clone
    #[arg(long, value_name = "ARN")]
    pub reference_service_arn: Option<String>,
    /// ECS cluster the clones run in
    #[arg(long, value_name = "CLUSTER")]
    pub target_cluster: Option<String>,
    /// First part of each environment's host name
    #[arg(long, value_name = "PREFIX")]
    pub domain_name_prefix: Option<String>,
    /// ARN of the shared ALB with the HTTPS:443 listener
    #[arg(long, value_name = "ARN")]
    pub master_alb_arn: Option<String>,
    /// ARN of the shared ALB's HTTPS:443 listener (looked up when left out; saves a round trip)
    #[arg(long, value_name = "ARN")]
    pub master_listener_arn: Option<String>,
    /// ARN of the reference service's target group (looked up when left out; saves a round trip)
    #[arg(long, value_name = "ARN")]
    pub reference_target_group_arn: Option<String>,
    /// Route 53 zone for environment host names (looked up from the id when left out)
    #[arg(long, value_name = "ZONE")]
    pub dynamic_zone_name: Option<String>,
    /// Route 53 hosted zone id for environment host names
    #[arg(long, value_name = "ID")]
    pub dynamic_zone_id: Option<String>,
    /// S3 bucket of the environments file
    #[arg(long, visible_alias = "endpoint-s3-bucket-name", value_name = "BUCKET")]
    pub config_bucket_name: Option<String>,
    /// S3 key of the environments file
    #[arg(long, visible_alias = "endpoint-s3-key", value_name = "KEY")]
    pub config_bucket_key: Option<String>,
    /// Field of the environments file object that holds this profile's endpoint
    #[arg(long, visible_alias = "endpoint-update-key", value_name = "FIELD")]
    pub config_update_key: Option<String>,
    /// `env` of the environments file objects
    #[arg(long, visible_alias = "endpoint-env-type", value_name = "ENV")]
    pub config_env_type: Option<String>,
    /// Prefix of the `name` of the environments file objects
    #[arg(long, visible_alias = "endpoint-name-prefix", value_name = "PREFIX")]
    pub config_name_prefix: Option<String>,
    /// Container whose image is replaced (default: the reference service's load balancer entry)
    #[arg(long, value_name = "NAME")]
    pub target_container_name: Option<String>,
}

impl ProfileKeys {
    /// The flags that were given, as profile keys.
    pub fn overrides(&self) -> Vec<(Key, String)> {
        [
            (Key::NamePrefix, &self.name_prefix),
            (Key::ReferenceServiceArn, &self.reference_service_arn),
            (Key::TargetCluster, &self.target_cluster),
            (Key::DomainNamePrefix, &self.domain_name_prefix),
            (Key::MasterAlbArn, &self.master_alb_arn),
            (Key::MasterListenerArn, &self.master_listener_arn),
            (
                Key::ReferenceTargetGroupArn,
                &self.reference_target_group_arn,
            ),
            (Key::DynamicZoneName, &self.dynamic_zone_name),
            (Key::DynamicZoneId, &self.dynamic_zone_id),
            (Key::ConfigBucketName, &self.config_bucket_name),
            (Key::ConfigBucketKey, &self.config_bucket_key),
            (Key::ConfigUpdateKey, &self.config_update_key),
            (Key::ConfigEnvType, &self.config_env_type),
            (Key::ConfigNamePrefix, &self.config_name_prefix),
            (Key::TargetContainerName, &self.target_container_name),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect()
    }
}

impl Command {
    /// Whether `-v` was given, wherever the subcommand keeps it.
    pub fn verbose(&self) -> bool {
        match self {
            Command::Create(a) => a.common.verbose,
            Command::Delete(a) => a.common.verbose,
            Command::Ls(a) => a.common.verbose,
            Command::Status(a) => a.common.verbose,
            Command::Gc(a) => a.common.verbose,
            Command::IamPolicy(a) => a.common.verbose,
            Command::Serve(a) => a.verbose,
            Command::Completions { .. } => false,
            Command::Config(ConfigCommand::Setup(a)) => a.common.verbose,
            Command::Config(ConfigCommand::Check(a)) => a.common.verbose,
            Command::Config(
                ConfigCommand::Push(a) | ConfigCommand::Pull(a) | ConfigCommand::RemoteRm(a),
            ) => a.common.verbose,
            Command::Config(ConfigCommand::Ls(a)) => a.common.verbose,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn both_spellings_of_a_key_set_the_same_flag() {
        for flag in ["--config-bucket-name", "--endpoint-s3-bucket-name"] {
            let cli = Cli::try_parse_from(["eden", "config", "setup", flag, "b"]).unwrap();
            let Command::Config(ConfigCommand::Setup(args)) = cli.command else {
                panic!("parsed as another command");
            };
            assert_eq!(
                args.keys.overrides(),
                [(Key::ConfigBucketName, "b".to_string())]
            );
            assert_eq!(args.profile.profile, "default");
        }
    }
}
