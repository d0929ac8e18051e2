"""A throw-away emulated AWS for the scripts that measure eden (bench, chaos): moto on a free
loopback port, scripts/awsproxy.py in front of it, the world from seed_world.py, and helpers to
run eden and to list what it left behind.

One moto process answers one call at a time (Python's lock), where AWS's services answer side by
side: `Lab(split=True)` runs one moto per service instead (EC2, ELB and ACM together, as ELB
checks subnets and certificates; ECS with a copy of the network, whose subnets and security group
it checks), and the proxy sends each call to its service's.

`Lab(timing=True)` puts bench/latency-proxy in front instead of awsproxy.py: the same fixed delay
per call, at next to no CPU (awsproxy.py's Python costs about a millisecond a call on the machine
that runs eden and moto too), without awsproxy.py's faults and checks."""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = sys.executable
GNU_TIME = "/usr/bin/time"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def median(values):
    return statistics.median(values) if values else float("nan")


# Services with a moto of their own in a split lab, by the name their calls are signed with.
SPLIT_SERVICES = ("dynamodb", "s3", "route53", "ecr", "ecs")
# The boto3 client names of the services the lab reads, and the name their calls are signed with.
CLIENTS = {"ecs": "ecs", "elbv2": "elasticloadbalancing", "route53": "route53", "s3": "s3", "dynamodb": "dynamodb"}


def start_moto():
    port = free_port()
    moto = subprocess.Popen([os.path.join(os.path.dirname(PYTHON), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return moto, f"http://127.0.0.1:{port}"


class Lab:
    def __init__(self, eden=os.path.join(ROOT, "target", "release", "eden"), split=False, timing=False):
        self.eden_bin = eden
        self.home = tempfile.mkdtemp(prefix="eden-lab-")
        moto, self.moto_url = start_moto()
        self.motos = [moto]
        self.routes = {}
        for service in SPLIT_SERVICES if split else ():
            moto, self.routes[service] = start_moto()
            self.motos.append(moto)
        proxy_port = free_port()
        routes = [arg for service, url in self.routes.items() for arg in ("--route", f"{service}={url}")]
        proxy = ([os.path.join(ROOT, "target", "release", "latency-proxy")] if timing
                 else [PYTHON, os.path.join(ROOT, "scripts", "awsproxy.py")])
        self.proxy = subprocess.Popen([*proxy, "--upstream", self.moto_url, "--port", str(proxy_port), *routes],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(proxy_port)
        self.url = f"http://127.0.0.1:{proxy_port}"
        self.env = dict(os.environ, HOME=self.home, AWS_ENDPOINT_URL=self.url, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                        AWS_ACCESS_KEY_ID="lab", AWS_SECRET_ACCESS_KEY="lab", AWS_EC2_METADATA_DISABLED="true")
        self.config = os.path.join(self.home, ".eden", "config")
        # Through the proxy, which sends each service's calls to its moto; no rules are set yet.
        seed = [PYTHON, os.path.join(ROOT, "scripts", "seed_world.py"), "--endpoint", self.url, "--config", self.config]
        if split:
            # ECS's moto gets the same network: the two processes' ids come from one seed.
            for url in (self.moto_url, self.routes["ecs"]):
                urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/seed?a=7", method="POST")).read()
            seed += ["--network-copy", self.routes["ecs"]]
        seeded = subprocess.run(seed, env=self.env, capture_output=True, check=True)
        self.world = json.loads(seeded.stdout)
        os.environ.update(AWS_ACCESS_KEY_ID="lab", AWS_SECRET_ACCESS_KEY="lab")
        self.aws = {name: boto3.client(name, region_name="us-east-1", endpoint_url=self.endpoint(service))
                    for name, service in CLIENTS.items()}

    def endpoint(self, service):
        """Where the moto of a service (as its calls are signed) listens."""
        return self.routes.get(service, self.moto_url)

    def close(self):
        for process in (self.proxy, *self.motos):
            process.kill()
            process.wait()

    def image(self, profile, version):
        return self.world["profiles"][profile][f"image_{version}"]

    # proxy control
    def rules(self, rules):
        request = urllib.request.Request(f"{self.url}/__proxy/rules", data=json.dumps(rules).encode(), method="POST")
        urllib.request.urlopen(request).read()

    def stats(self):
        return json.loads(urllib.request.urlopen(f"{self.url}/__proxy/stats").read())

    # running eden
    def command(self, *args):
        return [self.eden_bin, *args]

    def run(self, *args, command=None, env=None):
        """Runs eden (or `command`, with `env` added to the environment); returns (exit code,
        seconds, stderr, peak RSS in KiB or None).

        The peak RSS comes from GNU time: a child forked from this (large) Python process would
        count the parent's pages in its own peak."""
        command = command or self.command(*args)
        with tempfile.NamedTemporaryFile("r") as rss_file:
            if os.path.exists(GNU_TIME):
                command = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file.name, *command]
            started = time.perf_counter()
            done = subprocess.run(command, env=dict(self.env, **(env or {})), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            seconds = time.perf_counter() - started
            rss = rss_file.read().strip()
        return done.returncode, seconds, done.stderr.decode(errors="replace"), int(rss) if rss.isdigit() else None

    def spawn(self, *args):
        return subprocess.Popen(self.command(*args), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    # what is left in AWS
    def leftovers(self, prefix="dev-dynamic-"):
        ecs, elb, r53, s3, ddb = (self.aws[n] for n in ("ecs", "elbv2", "route53", "s3", "dynamodb"))
        left = []
        arns = ecs.list_services(cluster="dev", maxResults=100)["serviceArns"]
        names = [a.rsplit("/", 1)[1] for a in arns if a.rsplit("/", 1)[1].startswith(prefix)]
        for i in range(0, len(names), 10):
            for svc in ecs.describe_services(cluster="dev", services=names[i:i + 10])["services"]:
                if svc["status"] == "ACTIVE":
                    left.append(f"service {svc['serviceName']}")
        left += [f"target group {t['TargetGroupName']}" for t in elb.describe_target_groups()["TargetGroups"]
                 if t["TargetGroupName"].startswith(prefix)]
        listener = elb.describe_listeners(LoadBalancerArn=self.world["shared_alb_arn"])["Listeners"][0]["ListenerArn"]
        left += [f"rule {r['RuleArn']}" for r in elb.describe_rules(ListenerArn=listener)["Rules"] if not r["IsDefault"]]
        records = r53.list_resource_record_sets(HostedZoneId=self.world["zone_id"])["ResourceRecordSets"]
        left += [f"record {r['Name']}" for r in records if r["Type"] in ("A", "AAAA")]
        for family in ecs.list_task_definition_families(familyPrefix=prefix, status="ACTIVE")["families"]:
            left += [f"task definition {a}" for a in ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]]
        body = json.loads(s3.get_object(Bucket=self.world["bucket"], Key=self.world["key"])["Body"].read())
        left += [f"file entry {e['name']}" for e in body["environments"]]
        try:
            left += [f"state item {i['name']['S']}" for i in ddb.scan(TableName="eden")["Items"]]
        except ddb.exceptions.ResourceNotFoundException:
            pass
        return left
