# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_eden_global_optspecs
    string join \n h/help V/version
end

function __fish_eden_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_eden_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_eden_using_subcommand
    set -l cmd (__fish_eden_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c eden -n "__fish_eden_needs_command" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_needs_command" -s V -l version -d 'Print version'
complete -c eden -n "__fish_eden_needs_command" -f -a "create" -d 'Create environment or deploy to existent'
complete -c eden -n "__fish_eden_needs_command" -f -a "delete" -d 'Delete environment'
complete -c eden -n "__fish_eden_needs_command" -f -a "ls" -d 'List existing environments'
complete -c eden -n "__fish_eden_needs_command" -f -a "status" -d 'Show every resource of an environment with its state'
complete -c eden -n "__fish_eden_needs_command" -f -a "gc" -d 'Delete expired environments (and with --orphans, what eden left behind)'
complete -c eden -n "__fish_eden_needs_command" -f -a "config" -d 'Configure eden'
complete -c eden -n "__fish_eden_needs_command" -f -a "iam-policy" -d 'Print the least-privilege IAM policy a profile needs'
complete -c eden -n "__fish_eden_needs_command" -f -a "serve" -d 'Serve the HTTP API (keys from EDEN_API_KEYS or --api-keys-file)'
complete -c eden -n "__fish_eden_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c eden -n "__fish_eden_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c eden -n "__fish_eden_using_subcommand create" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand create" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand create" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l name -d 'Environment name (branch name etc.)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l image-uri -d 'Image URI to deploy (ECR repository path, image name and tag)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l set-env -d 'Set an environment variable of the target container, for this environment only' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l ttl -d 'Delete the environment this long after its last create or deploy (30s, 90m, 12h, 3d); `eden gc` sweeps expired ones' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l timeout -d 'How long --wait waits (30s, 10m, 1h)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l name-prefix -d 'Prefix of the task definition, target group and service names' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l reference-service-arn -d 'ARN of the ECS service to clone' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l target-cluster -d 'ECS cluster the clones run in' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l domain-name-prefix -d 'First part of each environment\'s host name' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l master-alb-arn -d 'ARN of the shared ALB with the HTTPS:443 listener' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l master-listener-arn -d 'ARN of the shared ALB\'s HTTPS:443 listener (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l reference-target-group-arn -d 'ARN of the reference service\'s target group (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l dynamic-zone-name -d 'Route 53 zone for environment host names (looked up from the id when left out)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l dynamic-zone-id -d 'Route 53 hosted zone id for environment host names' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l config-bucket-name -l endpoint-s3-bucket-name -d 'S3 bucket of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l config-bucket-key -l endpoint-s3-key -d 'S3 key of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l config-update-key -l endpoint-update-key -d 'Field of the environments file object that holds this profile\'s endpoint' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l config-env-type -l endpoint-env-type -d '`env` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l config-name-prefix -l endpoint-name-prefix -d 'Prefix of the `name` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand create" -l target-container-name -d 'Container whose image is replaced (default: the reference service\'s load balancer entry)' -r
complete -c eden -n "__fish_eden_using_subcommand create" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand create" -l wait -d 'Wait until the new deployment has rolled out, its targets are healthy and a new host name has reached every Route 53 name server'
complete -c eden -n "__fish_eden_using_subcommand create" -l dry-run -d 'Print what would be made, changed or removed, and change nothing'
complete -c eden -n "__fish_eden_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand delete" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand delete" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l name -d 'Environment name (branch name etc.)' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l name-prefix -d 'Prefix of the task definition, target group and service names' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l reference-service-arn -d 'ARN of the ECS service to clone' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l target-cluster -d 'ECS cluster the clones run in' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l domain-name-prefix -d 'First part of each environment\'s host name' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l master-alb-arn -d 'ARN of the shared ALB with the HTTPS:443 listener' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l master-listener-arn -d 'ARN of the shared ALB\'s HTTPS:443 listener (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l reference-target-group-arn -d 'ARN of the reference service\'s target group (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l dynamic-zone-name -d 'Route 53 zone for environment host names (looked up from the id when left out)' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l dynamic-zone-id -d 'Route 53 hosted zone id for environment host names' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l config-bucket-name -l endpoint-s3-bucket-name -d 'S3 bucket of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l config-bucket-key -l endpoint-s3-key -d 'S3 key of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l config-update-key -l endpoint-update-key -d 'Field of the environments file object that holds this profile\'s endpoint' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l config-env-type -l endpoint-env-type -d '`env` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l config-name-prefix -l endpoint-name-prefix -d 'Prefix of the `name` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -l target-container-name -d 'Container whose image is replaced (default: the reference service\'s load balancer entry)' -r
complete -c eden -n "__fish_eden_using_subcommand delete" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand delete" -l dry-run -d 'Print what would be made, changed or removed, and change nothing'
complete -c eden -n "__fish_eden_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand ls" -s p -l profile -d 'Only this profile\'s environments' -r
complete -c eden -n "__fish_eden_using_subcommand ls" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand ls" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand ls" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand ls" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand status" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand status" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand status" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l name -d 'Environment name (branch name etc.)' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l name-prefix -d 'Prefix of the task definition, target group and service names' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l reference-service-arn -d 'ARN of the ECS service to clone' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l target-cluster -d 'ECS cluster the clones run in' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l domain-name-prefix -d 'First part of each environment\'s host name' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l master-alb-arn -d 'ARN of the shared ALB with the HTTPS:443 listener' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l master-listener-arn -d 'ARN of the shared ALB\'s HTTPS:443 listener (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l reference-target-group-arn -d 'ARN of the reference service\'s target group (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l dynamic-zone-name -d 'Route 53 zone for environment host names (looked up from the id when left out)' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l dynamic-zone-id -d 'Route 53 hosted zone id for environment host names' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l config-bucket-name -l endpoint-s3-bucket-name -d 'S3 bucket of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l config-bucket-key -l endpoint-s3-key -d 'S3 key of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l config-update-key -l endpoint-update-key -d 'Field of the environments file object that holds this profile\'s endpoint' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l config-env-type -l endpoint-env-type -d '`env` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l config-name-prefix -l endpoint-name-prefix -d 'Prefix of the `name` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand status" -l target-container-name -d 'Container whose image is replaced (default: the reference service\'s load balancer entry)' -r
complete -c eden -n "__fish_eden_using_subcommand status" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand gc" -s p -l profile -d 'Only this profile (default: every profile in the config file)' -r
complete -c eden -n "__fish_eden_using_subcommand gc" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand gc" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand gc" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand gc" -l orphans -d 'Also remove resources tagged by eden that belong to no environment in the state table'
complete -c eden -n "__fish_eden_using_subcommand gc" -l dry-run -d 'List what would be removed, and change nothing'
complete -c eden -n "__fish_eden_using_subcommand gc" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "setup" -d 'Setup profiles for other commands'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "check" -d 'Check configuration file integrity'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "push" -d 'Push local profile to DynamoDB for use by eden API'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "pull" -d 'Pull a remote profile from DynamoDB into the configuration file'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "ls" -d 'List local and remote profiles'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "remote-rm" -d 'Delete remote profile from DynamoDB'
complete -c eden -n "__fish_eden_using_subcommand config; and not __fish_seen_subcommand_from setup check push pull ls remote-rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l name-prefix -d 'Prefix of the task definition, target group and service names' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l reference-service-arn -d 'ARN of the ECS service to clone' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l target-cluster -d 'ECS cluster the clones run in' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l domain-name-prefix -d 'First part of each environment\'s host name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l master-alb-arn -d 'ARN of the shared ALB with the HTTPS:443 listener' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l master-listener-arn -d 'ARN of the shared ALB\'s HTTPS:443 listener (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l reference-target-group-arn -d 'ARN of the reference service\'s target group (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l dynamic-zone-name -d 'Route 53 zone for environment host names (looked up from the id when left out)' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l dynamic-zone-id -d 'Route 53 hosted zone id for environment host names' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l config-bucket-name -l endpoint-s3-bucket-name -d 'S3 bucket of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l config-bucket-key -l endpoint-s3-key -d 'S3 key of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l config-update-key -l endpoint-update-key -d 'Field of the environments file object that holds this profile\'s endpoint' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l config-env-type -l endpoint-env-type -d '`env` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l config-name-prefix -l endpoint-name-prefix -d 'Prefix of the `name` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l target-container-name -d 'Container whose image is replaced (default: the reference service\'s load balancer entry)' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -l aws -d 'Also look up in AWS what the profile leaves out and AWS has (master_listener_arn, reference_target_group_arn, dynamic_zone_name), and warn of what AWS lacks'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from setup" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -s p -l profile -d 'Check only this profile (default: every profile in the file)' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -l aws -d 'Also check the profile\'s prerequisites in AWS (reference service, ALB, certificate...)'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -l fix -d 'With --aws: write what AWS has for the keys the profile gets wrong or leaves out (master_listener_arn, reference_target_group_arn, dynamic_zone_name) into the file'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from push" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from push" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from push" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from push" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from pull" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from pull" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from pull" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from pull" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from ls" -s o -l output -d 'Result format on stdout (logs stay on stderr)' -r -f -a "text\t'Lines for people, as the seed prints them'
json\t'One JSON document, for CI'"
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from ls" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from ls" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from remote-rm" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from remote-rm" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from remote-rm" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from remote-rm" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from remote-rm" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "setup" -d 'Setup profiles for other commands'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check configuration file integrity'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "push" -d 'Push local profile to DynamoDB for use by eden API'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Pull a remote profile from DynamoDB into the configuration file'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List local and remote profiles'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "remote-rm" -d 'Delete remote profile from DynamoDB'
complete -c eden -n "__fish_eden_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -s p -l profile -d 'profile name in eden configuration file' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -s c -l config-path -d 'eden configuration file path' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l name-prefix -d 'Prefix of the task definition, target group and service names' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l reference-service-arn -d 'ARN of the ECS service to clone' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l target-cluster -d 'ECS cluster the clones run in' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l domain-name-prefix -d 'First part of each environment\'s host name' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l master-alb-arn -d 'ARN of the shared ALB with the HTTPS:443 listener' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l master-listener-arn -d 'ARN of the shared ALB\'s HTTPS:443 listener (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l reference-target-group-arn -d 'ARN of the reference service\'s target group (looked up when left out; saves a round trip)' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l dynamic-zone-name -d 'Route 53 zone for environment host names (looked up from the id when left out)' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l dynamic-zone-id -d 'Route 53 hosted zone id for environment host names' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l config-bucket-name -l endpoint-s3-bucket-name -d 'S3 bucket of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l config-bucket-key -l endpoint-s3-key -d 'S3 key of the environments file' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l config-update-key -l endpoint-update-key -d 'Field of the environments file object that holds this profile\'s endpoint' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l config-env-type -l endpoint-env-type -d '`env` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l config-name-prefix -l endpoint-name-prefix -d 'Prefix of the `name` of the environments file objects' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -l target-container-name -d 'Container whose image is replaced (default: the reference service\'s load balancer entry)' -r
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand iam-policy" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand serve" -l listen -d 'Address to listen on' -r
complete -c eden -n "__fish_eden_using_subcommand serve" -l api-keys-file -d 'File with the accepted API keys, one per line (else EDEN_API_KEYS, comma-separated)' -r -F
complete -c eden -n "__fish_eden_using_subcommand serve" -l remote-table-name -d 'Remote DynamoDB table name' -r
complete -c eden -n "__fish_eden_using_subcommand serve" -s v -l verbose -d 'Per-call detail in the log'
complete -c eden -n "__fish_eden_using_subcommand serve" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand completions" -s h -l help -d 'Print help'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "create" -d 'Create environment or deploy to existent'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "delete" -d 'Delete environment'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "ls" -d 'List existing environments'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "status" -d 'Show every resource of an environment with its state'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "gc" -d 'Delete expired environments (and with --orphans, what eden left behind)'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "config" -d 'Configure eden'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "iam-policy" -d 'Print the least-privilege IAM policy a profile needs'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "serve" -d 'Serve the HTTP API (keys from EDEN_API_KEYS or --api-keys-file)'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c eden -n "__fish_eden_using_subcommand help; and not __fish_seen_subcommand_from create delete ls status gc config iam-policy serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "setup" -d 'Setup profiles for other commands'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check configuration file integrity'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "push" -d 'Push local profile to DynamoDB for use by eden API'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "pull" -d 'Pull a remote profile from DynamoDB into the configuration file'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "ls" -d 'List local and remote profiles'
complete -c eden -n "__fish_eden_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "remote-rm" -d 'Delete remote profile from DynamoDB'
