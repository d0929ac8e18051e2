"""Chaos run: many eden runs at once, injected faults at every write, transient errors and bad
input, against moto behind awsproxy.py. Prints a table of what was tried, what succeeded, the
faults injected and the resources left behind. Run through bench/chaos.

CHAOS_N (default 50) sets how many environments are made and removed at once.
"""

import os
import time

from lab import Lab

N = int(os.environ.get("CHAOS_N", "50"))
CREATE_WRITES = [("PutItem", 0), ("RegisterTaskDefinition", 0), ("CreateTargetGroup", 0),
                 ("ModifyTargetGroupAttributes", 0), ("ChangeResourceRecordSets", 0), ("CreateRule", 0),
                 ("CreateService", 0), ("PutObject", 0), ("TransactWriteItems", 0)]
DELETE_WRITES = [("PutItem", 0), ("PutObject", 0), ("ChangeResourceRecordSets", 0),
                 ("DeleteRule", 0), ("DeleteService", 0), ("DeleteTargetGroup", 0), ("DeregisterTaskDefinition", 0),
                 ("TransactWriteItems", 0)]
ROWS = []


def row(scenario, tried, succeeded, faults, left, seconds):
    ROWS.append((scenario, tried, succeeded, faults, len(left), f"{seconds:.1f} s"))
    for item in left[:5]:
        print(f"  left by {scenario}: {item}")


def keep_logs(lab, scenario, runs):
    """Writes the stderr of each run, `(file name, stderr)`, of a scenario that left something
    into a folder of its own, and says where."""
    folder = os.path.join(lab.home, "chaos-logs", scenario)
    os.makedirs(folder, exist_ok=True)
    for name, stderr in runs:
        with open(os.path.join(folder, f"{name}.log"), "w") as f:
            f.write(stderr)
    print(f"  logs of the runs of {scenario}: {folder}")


def one_error_line(stderr):
    return sum(line.startswith("error: ") for line in stderr.splitlines()) == 1 and "panicked" not in stderr


def wait_all(processes):
    return [(p.wait(), p.stderr.read().decode(errors="replace")) for p in processes]


def running_image(lab, name):
    ecs = lab.aws["ecs"]
    service = ecs.describe_services(cluster="dev", services=[f"dev-dynamic-api-{name}"])["services"][0]
    task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return task_definition["containerDefinitions"][0]["image"]


def concurrency(lab):
    # Route 53 allows five calls a second per account: the creates' changes are throttled, then
    # the deploys' lookups (a deploy does not wait for them, but its lease does).
    waves = [("creates", "create", "v1", "ChangeResourceRecordSets"),
             ("deploys", "create", "v2", "ListResourceRecordSets"),
             ("deletes", "delete", None, "ChangeResourceRecordSets")]
    ok, throttled, times, logs = 0, 0, [], []
    for wave, command, version, throttled_operation in waves:
        lab.rules({"latency_ms": 20, "throttle": [{"operation": throttled_operation, "per_second": 5}]})
        image = ["--image-uri", lab.image("api", version)] if version else []
        started = time.time()
        runs = wait_all([lab.spawn(command, "-p", "api", "--name", f"pr-{i}", *image) for i in range(N)])
        times.append(time.time() - started)
        logs += [(f"{wave}-pr-{i}", stderr) for i, (_, stderr) in enumerate(runs)]
        throttled += lab.stats().get("throttled", 0)
        if version == "v2":
            ok += sum(code == 0 and running_image(lab, f"pr-{i}") == lab.image("api", "v2")
                      for i, (code, _) in enumerate(runs))
        else:
            ok += sum(code == 0 for code, _ in runs)
    spent = " + ".join(f"{t:.1f} s" for t in times)
    scenario = f"{N} creates, {N} deploys, then {N} deletes at once ({spent})"
    left = lab.leftovers()
    if left:
        keep_logs(lab, "waves", logs)
    row(scenario, len(waves) * N, ok, f"{throttled} Route 53 throttles", left, sum(times))


def same_name(lab):
    lab.rules({"latency_ms": 20})
    started = time.time()
    runs = wait_all([lab.spawn("create", "-p", "api", "--name", "same", "--image-uri", lab.image("api", "v1"))
                     for _ in range(5)])
    services = [s for s in lab.leftovers() if s.startswith("service ")]
    ok = sum(code == 0 for code, _ in runs) if len(services) == 1 else 0
    lab.run("delete", "-p", "api", "--name", "same")
    row("5 creates of one name at once (one service)", 5, ok, "-", lab.leftovers(), time.time() - started)


def faults(lab):
    started, tried, ok = time.time(), 0, 0
    for operation, skip in CREATE_WRITES:
        lab.rules({"faults": [{"operation": operation, "error": "AccessDenied", "skip": skip}]})
        code, _, stderr, _ = lab.run("create", "-v", "-p", "api", "--name", "f", "--image-uri", lab.image("api", "v1"))
        tried += 1
        left = lab.leftovers()
        ok += code != 0 and one_error_line(stderr) and not left
        if left:
            keep_logs(lab, f"create-{operation}-{skip + 1}-denied", [("f", stderr)])
    row("create failed at each write (undone)", tried, ok, f"{tried} AccessDenied", lab.leftovers(),
        time.time() - started)

    started, tried, ok = time.time(), 0, 0
    for operation, skip in DELETE_WRITES:
        lab.rules({})
        lab.run("create", "-p", "api", "--name", "f", "--image-uri", lab.image("api", "v1"))
        lab.rules({"faults": [{"operation": operation, "error": "AccessDenied", "skip": skip}]})
        code, _, stderr, _ = lab.run("delete", "-p", "api", "--name", "f")
        lab.rules({})
        again, _, _, _ = lab.run("delete", "-p", "api", "--name", "f")
        tried += 1
        ok += code != 0 and one_error_line(stderr) and again == 0 and not lab.leftovers()
    row("delete failed at each write, run again", tried, ok, f"{tried} AccessDenied", lab.leftovers(),
        time.time() - started)


def transient(lab):
    started, tried, ok = time.time(), 0, 0
    calls = [(error, operation) for error in ("Throttling", "500", "reset")
             for operation in ("DescribeServices", "RegisterTaskDefinition", "CreateTargetGroup", "CreateRule",
                               "CreateService", "PutObject", "ChangeResourceRecordSets")]
    # DynamoDB's answers to a write that meets another in flight: the lease's take, the state item.
    calls += [("TransactionConflictException", "PutItem"), ("TransactionConflict", "TransactWriteItems")]
    for error, operation in calls:
        lab.rules({"faults": [{"operation": operation, "error": error, "times": 2}]})
        code, _, _, _ = lab.run("create", "-p", "api", "--name", "t", "--image-uri", lab.image("api", "v1"))
        lab.rules({})
        ok += code == 0 and lab.run("delete", "-p", "api", "--name", "t")[0] == 0
        tried += 1
    row("transient errors twice per call (retried)", tried, ok,
        f"{2 * tried} throttles/500s/resets/write conflicts", lab.leftovers(), time.time() - started)


def bad_input(lab):
    lab.rules({})
    image = lab.image("api", "v1")
    zone_less = ["--dynamic-zone-id", "ZNOSUCHZONE"]
    cases = [
        ["--name", "", "--image-uri", image],
        ["--name", "...", "--image-uri", image],
        ["--name", "日本語", "--image-uri", image],
        ["--name", "x", "--image-uri", "Not An Image"],
        ["--name", "x", "--image-uri", image.replace(":v1", ":v9")],
        ["--name", "x", "--image-uri", image, "-p", "nope"],
        ["--name", "x", "--image-uri", image, "--reference-service-arn", "dev01-api"],
        ["--name", "x", "--image-uri", image, "--master-alb-arn", lab.world["profiles"]["api"]["reference_alb_arn"]],
        ["--name", "x", "--image-uri", image, *zone_less],
        ["--name", "x", "--image-uri", image, "--config-bucket-name", "no-such-bucket"],
    ]
    started, ok = time.time(), 0
    for args in cases:
        profile = [] if "-p" in args else ["-p", "api"]
        code, _, stderr, _ = lab.run("create", *profile, *args)
        ok += code != 0 and one_error_line(stderr)
    row("bad input refused with one line", len(cases), ok, "-", lab.leftovers(), time.time() - started)


def main():
    # A moto per service, as the test of many runs at once: one moto alone, answering one call at a
    # time, makes calls of 50 runs wait past eden's timeout on a slow machine.
    lab = Lab(split=True)
    try:
        for scenario in (concurrency, same_name, faults, transient, bad_input):
            scenario(lab)
    finally:
        lab.close()
    print("| scenario | tried | succeeded as expected | faults injected | resources left | time |")
    print("|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(str(c) for c in r) + " |")


if __name__ == "__main__":
    main()
