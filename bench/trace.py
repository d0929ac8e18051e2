"""Prints the timeline of eden's AWS calls for one create, deploy and delete, as the latency
proxy saw them: when each call came in and when its answer went out, relative to the start of
the command, and the time beyond the added latency (moto's own, and waiting for its lock).
Shows which calls overlap and which chain sets the wall time.

Usage: bench/trace [LATENCY_MS [SERVICE=MS ...]] [split]
  e.g. bench/trace 50 route53=200: Route 53 as far away as it is from Tokyo;
  split: one moto process per service (see lab.py), as AWS's services answer side by side.
"""

import json
import sys
import time
import urllib.request

from lab import Lab


def trace(lab):
    return json.loads(urllib.request.urlopen(f"{lab.url}/__proxy/trace").read())


def main():
    args = [arg for arg in sys.argv[1:] if arg != "split"]
    latency = int(args[0]) if args else 50
    services = {service: int(ms) for service, ms in (arg.split("=") for arg in args[1:])}
    rules = {"latency_ms": latency, "service_latency_ms": services}
    also = "".join(f", {service} {ms} ms" for service, ms in services.items())
    lab = Lab(split="split" in sys.argv[1:], timing=True)
    try:
        # moto answers its first calls of each kind slowly: warm it up first.
        lab.run("create", "-p", "api", "--name", "warm", "--image-uri", lab.image("api", "v1"))
        lab.run("delete", "-p", "api", "--name", "warm")
        steps = [
            ("create", ["create", "-p", "api", "--name", "trace", "--image-uri", lab.image("api", "v1")]),
            ("deploy", ["create", "-p", "api", "--name", "trace", "--image-uri", lab.image("api", "v2")]),
            ("delete", ["delete", "-p", "api", "--name", "trace"]),
        ]
        for step, args in steps:
            lab.rules(rules)
            epoch = time.perf_counter()  # the proxy's clock starts when the rules are set
            started = (time.perf_counter() - epoch) * 1000
            code, seconds, stderr, _ = lab.run(*args)
            if code != 0:
                sys.exit(f"eden {step} failed:\n{stderr}")
            calls = trace(lab)
            print(f"\n{step}: {seconds * 1000:.0f} ms wall, {len(calls)} calls at {latency} ms each{also}")
            first = min(c[1] for c in calls)
            for operation, received, answered, service in sorted(calls, key=lambda c: c[1]):
                bar = " " * int((received - first) / 10) + "#" * max(1, int((answered - received) / 10))
                added = services.get(service, latency)
                print(f"  {received - first:7.1f} {answered - first:7.1f} {answered - received - added:5.1f}  "
                      f"{operation:30} {bar}")
            last = max(c[2] for c in calls)
            print(f"  start to first call {first - started:.0f} ms, first call to last answer {last - first:.0f} ms, "
                  f"last answer to exit {started + seconds * 1000 - last:.0f} ms")
    finally:
        lab.close()


if __name__ == "__main__":
    main()
