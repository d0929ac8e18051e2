"""Seeds an emulated AWS (moto) with the world eden expects: a reference service per profile with
its target group, one shared ALB with an HTTPS:443 listener and a certificate for the dynamic
zone, the zone, the environments file in S3 and images in ECR. Writes an eden config file with
the seed's three profiles (api, admin, frontend) and prints the world as JSON.

Usage: seed_world.py --endpoint http://127.0.0.1:PORT --config PATH [--network-copy URL]

--network-copy: a moto of its own for ECS, which checks a service's subnets and security group in
the EC2 of its own process; both processes' random numbers seeded alike beforehand, the same
calls make the same network there.
"""

import argparse
import datetime
import json
import os

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REGION = "us-east-1"
ACCOUNT = "123456789012"
ZONE = "dev.example.com"
BUCKET = "servicename-config"
KEY = "endpoints.json"
CLUSTER = "dev"
# profile -> (domain name prefix, environments file key, container)
PROFILES = {
    "api": ("api", "api_endpoint", "api"),
    "admin": ("admin", "admin_endpoint", "admin"),
    "frontend": ("", "frontend_endpoint", "frontend"),
}


def client(name, endpoint):
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint)


def self_signed_certificate(domain):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )


def network(ec2):
    """The VPC, its two subnets and a security group: (vpc, subnets, group)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return vpc, subnets, sg


def seed(endpoint, config_path, network_copy=None):
    ecs = client("ecs", endpoint)
    elb = client("elbv2", endpoint)
    acm = client("acm", endpoint)
    r53 = client("route53", endpoint)
    s3 = client("s3", endpoint)
    ecr = client("ecr", endpoint)

    made = network(client("ec2", endpoint))
    if network_copy and network(client("ec2", network_copy)) != made:
        raise SystemExit(f"the network made at {network_copy} has other ids than {made}")
    vpc, subnets, sg = made
    ecs.create_cluster(clusterName=CLUSTER)

    cert, key = self_signed_certificate(f"*.{ZONE}")
    cert_arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    shared = elb.create_load_balancer(Name="dev-alb-api-dynamic", Subnets=subnets, SecurityGroups=[sg])
    shared_arn = shared["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(
        LoadBalancerArn=shared_arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": cert_arn}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )

    zone_id = r53.create_hosted_zone(Name=ZONE, CallerReference="eden-seed")["HostedZone"]["Id"].split("/")[-1]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps({"environments": []}).encode())

    world = {
        "endpoint": endpoint,
        "region": REGION,
        "cluster": CLUSTER,
        "zone_id": zone_id,
        "zone": ZONE,
        "bucket": BUCKET,
        "key": KEY,
        "shared_alb_arn": shared_arn,
        "profiles": {},
    }
    for profile, (domain_prefix, update_key, container) in PROFILES.items():
        ref_alb = elb.create_load_balancer(Name=f"dev01-{profile}", Subnets=subnets, SecurityGroups=[sg])
        ref_alb_arn = ref_alb["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(
            Name=f"dev01-{profile}",
            Protocol="HTTP",
            Port=8080,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=15,
            Matcher={"HttpCode": "200-299"},
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(
            TargetGroupArn=tg,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
        )
        elb.create_listener(
            LoadBalancerArn=ref_alb_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
        )
        repo = ecr.create_repository(repositoryName=profile)["repository"]["repositoryUri"]
        for tag in ("v1", "v2"):
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{profile}{tag}"},
                "layers": [],
            }
            ecr.put_image(repositoryName=profile, imageManifest=json.dumps(manifest), imageTag=tag)
        td = ecs.register_task_definition(
            family=f"dev01-{profile}",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/app-task",
            executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/app-execution",
            containerDefinitions=[
                {
                    "name": container,
                    "image": f"{repo}:v1",
                    "essential": True,
                    "portMappings": [{"containerPort": 8080}],
                    "environment": [{"name": "DATABASE_HOST", "value": "db.dev.internal"}],
                    "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/db"}],
                },
                {"name": "log-router", "image": "fluent/fluent-bit:2", "essential": False},
            ],
            volumes=[{"name": "scratch"}],
        )["taskDefinition"]["taskDefinitionArn"]
        service = ecs.create_service(
            cluster=CLUSTER,
            serviceName=f"dev01-{profile}",
            taskDefinition=td,
            desiredCount=1,
            launchType="FARGATE",
            platformVersion="1.4.0",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg], "assignPublicIp": "DISABLED"}
            },
            loadBalancers=[{"targetGroupArn": tg, "containerName": container, "containerPort": 8080}],
            healthCheckGracePeriodSeconds=30,
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100},
            enableExecuteCommand=True,
        )["service"]["serviceArn"]
        world["profiles"][profile] = {
            "reference_service_arn": service,
            "reference_target_group_arn": tg,
            "reference_alb_arn": ref_alb_arn,
            "reference_task_definition_arn": td,
            "container": container,
            "image_v1": f"{repo}:v1",
            "image_v2": f"{repo}:v2",
            "update_key": update_key,
            "domain_name_prefix": domain_prefix,
        }

    # The config file as `eden config setup` writes it with the seed's flags.
    lines = []
    for profile, (domain_prefix, update_key, _) in PROFILES.items():
        lines += [
            f"[{profile}]",
            f"name_prefix = dev-dynamic-{profile}",
            f"reference_service_arn = {world['profiles'][profile]['reference_service_arn']}",
            f"target_cluster = {CLUSTER}",
            f"domain_name_prefix = {domain_prefix}",
            f"master_alb_arn = {shared_arn}",
            f"dynamic_zone_id = {zone_id}",
            f"endpoint_s3_bucket_name = {BUCKET}",
            f"endpoint_s3_key = {KEY}",
            f"endpoint_update_key = {update_key}",
            "endpoint_env_type = dev",
            "endpoint_name_prefix = servicename-dev",
            "",
        ]
    os.makedirs(os.path.dirname(os.path.abspath(config_path)), exist_ok=True)
    with open(config_path, "w") as f:
        f.write("\n".join(lines))
    return world


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--network-copy")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    print(json.dumps(seed(args.endpoint, args.config, args.network_copy), indent=2))


if __name__ == "__main__":
    main()
