"""Measures eden against the original Python eden 0.1.5 on one emulated world, with a fixed
latency added to every AWS call by bench/latency-proxy. Prints a Markdown table per way of
running moto: one process for every service, and one per service (see lab.py). Run through
bench/bench.

For each latency: the median wall time of create, deploy (create on an existing environment),
delete, and eden's create with a bare profile (as the original's file has it, before `config check --aws --fix` fills it in) for both tools, their ratio, the AWS calls each makes, and eden's critical-path bound
(depth x latency + 100 ms). Then eden's peak memory, `eden --help` time, and `eden ls` time with
10 and 10,000 environments in other profiles.
"""

import os
import shutil
import sys
import time

import boto3

from lab import ROOT, Lab, median

# A latency is "50", or "50/route53=200" for one service further away than the rest (Route 53
# answers from us-east-1, which is about 150 ms from Tokyo).
LATENCIES = os.environ.get("BENCH_LATENCIES", "0,20,50,100,50/route53=200").split(",")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# "one": one moto process answers every service, one call at a time; "split": a process per
# service, as AWS's services answer side by side.
MOTOS = os.environ.get("BENCH_MOTO", "one,split").split(",")
ORIGINAL = os.path.join(ROOT, ".venv-original", "bin", "eden")
# Calls on the longest chain that depend on each other (see crates/eden-core/src/plan), with the
# profile keys `config check --aws --fix` fills in (the listener, the reference's target group,
# the zone's name): a create's reads, its target group, rule and service; a deploy's and a
# delete's reads, the tags of what they found, their writes and their last call. A bare profile
# is one deeper: the listener's rules, the zone's records and the reference's target group each
# wait for a read that names them.
DEPTH = {"create": 4, "deploy": 3, "delete": 3, "bare create": 5}
STEPS = ("create", "deploy", "delete", "bare create")
# What failed, per tool and operation.
FAILURES = {}


def rules_of(latency):
    """The proxy rules for a latency spec."""
    base, *services = latency.split("/")
    return {"latency_ms": int(base),
            "service_latency_ms": {k: int(v) for k, v in (service.split("=") for service in services)}}


def label_of(latency):
    rules = rules_of(latency)
    return "".join([f"{rules['latency_ms']} ms"] + [f", {k} {v} ms" for k, v in rules["service_latency_ms"].items()])


def original_config(lab):
    """The same profile in the 0.1.x file format the original needs, every key spelled out."""
    p = lab.world["profiles"]["api"]
    path = os.path.join(lab.home, "original-config")
    with open(path, "w") as f:
        f.write("\n".join([
            "[api]",
            "name_prefix = dev-dynamic-api",
            f"reference_service_arn = {p['reference_service_arn']}",
            "target_cluster = dev",
            "domain_name_prefix = api",
            f"master_alb_arn = {lab.world['shared_alb_arn']}",
            f"dynamic_zone_name = {lab.world['zone']}.",
            f"dynamic_zone_id = {lab.world['zone_id']}",
            f"config_bucket_name = {lab.world['bucket']}",
            f"config_bucket_key = {lab.world['key']}",
            "config_update_key = api_endpoint",
            "config_env_type = dev",
            "config_name_prefix = servicename-dev",
            "target_container_name = api",
            "",
        ]))
    # Its own state table, in its own schema, so that its writes succeed.
    lab.aws["dynamodb"].create_table(
        TableName="original-eden", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "env_name", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "env_name", "KeyType": "HASH"}])
    return path


def tool_commands(lab, tool, config):
    if tool == "eden":
        return lambda *args: lab.command(*args)
    return lambda *args: [ORIGINAL, *args[:1], "-c", config, "--remote-table-name", "original-eden", *args[1:]]


def measure(lab, tool, config, latency):
    command = tool_commands(lab, tool, config)
    times = {step: [] for step in STEPS}
    calls = {}
    failures = FAILURES.setdefault(tool, {})
    for i in range(RUNS):
        name = f"{tool[:4]}-{LATENCIES.index(latency)}-{i}"
        create = ["create", "-p", "api", "--name", name, "--image-uri", lab.image("api", "v1")]
        steps = [
            ("create", create, None),
            ("deploy", ["create", "-p", "api", "--name", name, "--image-uri", lab.image("api", "v2")], None),
            ("delete", ["delete", "-p", "api", "--name", name], None),
        ]
        if tool == "eden":
            # With the profile as the original's file has it; then deleted, untimed.
            steps += [("bare create", create, {"EDEN_CONFIG": lab.bare_config}), (None, steps[2][1], None)]
        for step, args, env in steps:
            lab.rules(rules_of(latency))
            code, seconds, stderr, _ = lab.run(command=command(*args), env=env)
            if step is None:
                continue
            if code != 0 or "Traceback" in stderr:
                if tool == "eden":
                    sys.exit(f"eden {step} failed:\n{stderr}")
                # The original's known defects (a deploy needs fields moto leaves out).
                failures.setdefault(step, stderr.strip().splitlines()[-1])
                continue
            times[step].append(seconds)
            calls[step] = sum(v for k, v in lab.stats().items() if k != "throttled" and not k.startswith("ms:"))
    return {step: median(values) if values else None for step, values in times.items()}, calls


def ls_time(lab, others):
    """Median time of `eden ls -p api` with 10 api environments and `others` in another profile,
    and the part of it moto spent answering (its Query reads the whole table)."""
    table = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=lab.endpoint("dynamodb")).Table("eden")
    with table.batch_writer() as batch:
        for i in range(others):
            batch.put_item(Item={"type": "other", "name": f"other-{i}", "endpoint": f"o-{i}.dev.example.com",
                                 "last_updated": 1, "kind": "environment"})
    walls, moto = [], []
    for _ in range(RUNS):
        lab.rules({})
        walls.append(lab.run("ls", "-p", "api")[1] * 1000)
        moto.append(sum(v for k, v in lab.stats().items() if k.startswith("ms:")))
    return median(walls), median(moto)


def table(lab):
    """Both tools at each latency, on the lab's world."""
    config = original_config(lab)
    # The profile as seeded, and filled in as `config check --aws --fix` does.
    lab.bare_config = lab.config + ".bare"
    shutil.copy(lab.config, lab.bare_config)
    # It fails on the state table, which the first create makes; the keys are written all the same.
    _, _, stderr, _ = lab.run("config", "check", "--aws", "--fix", "-p", "api")
    with open(lab.config) as f:
        filled = f.read()
    if not all(key in filled for key in ("master_listener_arn", "reference_target_group_arn", "dynamic_zone_name")):
        sys.exit(f"config check --aws --fix did not fill the profile in: {stderr}")
    print("| latency | operation | eden | original | speed-up | eden calls | original calls | eden bound |")
    print("|---|---|---|---|---|---|---|---|")
    for latency in LATENCIES:
        ours, our_calls = measure(lab, "eden", None, latency)
        theirs, their_calls = measure(lab, "original", config, latency)
        rules = rules_of(latency)
        for step in STEPS:
            # The bound is for one latency everywhere.
            bound = f"{DEPTH[step] * rules['latency_ms'] + 100} ms" if not rules["service_latency_ms"] else "-"
            if step == "bare create":  # the original's profile is the same either way
                theirs[step], their_calls[step] = theirs["create"], their_calls.get("create")
            if theirs[step] is None:
                original, ratio, original_calls = "fails", "-", "-"
            else:
                original = f"{theirs[step] * 1000:.0f} ms"
                ratio = f"{theirs[step] / ours[step]:.1f}x"
                original_calls = their_calls[step]
            print(f"| {label_of(latency)} | {step} | {ours[step] * 1000:.0f} ms | {original} | {ratio} "
                  f"| {our_calls[step]} | {original_calls} | {bound} |")


def main():
    print(f"eden vs the original eden 0.1.5, moto behind a fixed latency per call, median of {RUNS} runs")
    for moto in MOTOS:
        lab = Lab(split=moto == "split", timing=True)
        try:
            print("\n" + ("one moto process per service" if moto == "split" else "one moto process") + ":\n")
            table(lab)
        finally:
            lab.close()
    lab = Lab(timing=True)
    try:
        lab.rules({})
        rss = []
        for i in range(RUNS):
            name = f"rss-{i}"
            rss.append(lab.run("create", "-p", "api", "--name", name, "--image-uri", lab.image("api", "v1"))[3])
            lab.run("delete", "-p", "api", "--name", name)
        help_times = []
        for _ in range(20):
            started = time.perf_counter()
            lab.run("--help")
            help_times.append(time.perf_counter() - started)
        for i in range(10):
            lab.run("create", "-p", "api", "--name", f"ls-{i}", "--image-uri", lab.image("api", "v1"))
        ls_10 = ls_time(lab, 10)
        ls_10k = ls_time(lab, 9990)
        peak = f"{max(rss) / 1024:.1f} MiB" if None not in rss else "n/a (no /usr/bin/time)"
        print(f"\npeak RSS of a create: {peak}; `eden --help`: {median(help_times) * 1000:.1f} ms; "
              f"`eden ls -p api` (10 shown) with 10 / 10,000 environments in another profile: "
              f"{ls_10[0]:.0f} ms / {ls_10k[0]:.0f} ms, of which moto {ls_10[1]:.0f} ms / {ls_10k[1]:.0f} ms")
        for step, why in FAILURES.get("original", {}).items():
            print(f"original {step} fails on moto: {why}")
        size = os.path.getsize(lab.eden_bin)
        print(f"release binary: {size / 1024 / 1024:.1f} MiB")
    finally:
        lab.close()


if __name__ == "__main__":
    main()
