"""A small fault and latency proxy for an emulated AWS endpoint (moto), for tests and benchmarks.

moto answers every call at once and never fails or throttles; real AWS does all three. This proxy
sits between eden and moto on loopback and can, per AWS operation:
  - delay every request by a fixed number of milliseconds (--latency-ms), or another delay for
    the calls of one service (Route 53 has one endpoint, in us-east-1: far from most regions)
    or of one operation (to line up a race);
  - throttle an operation above a rate, as Route 53 does (rules "throttle");
  - fail chosen calls with an AWS error, a 500 or a dropped connection (rules "faults");
and counts the calls of each operation. It also refuses, as Route 53 does and moto does not, a
CREATE over an existing record and a DELETE of a record not there with those values, unless told
to act as moto does (and it lets a CREATE of a record made and deleted before through, which moto
refuses when any record sorts after it); and, as ELB does, a listener rule past an ALB's quotas
of rules and of target groups (counted on the rule's listener); and, as ECS does, a service of a
name taken or still draining (a name its client token made is that call's answer), or whose
target group is not there or on no load balancer; and it keeps what ECS keeps of a service and moto
drops (its placement and zone rebalancing; its deployment's Service Connect and EBS volumes),
for DescribeServices to show. It lets one conditional write of
an S3 object, one change of a zone's records and one write of a DynamoDB item at a time through,
as AWS makes each one step and moto does not (a write of another thread between moto's steps is
lost, or both pass their condition).

Control API (on the proxy's own port):
  GET  /__proxy/stats    -> {"OperationName": count, "ms:OperationName": upstream ms, ...}
  GET  /__proxy/trace    -> [[operation, received ms, answered ms, service], ...] since the rules were set
  POST /__proxy/rules    <- {"latency_ms": 20, "service_latency_ms": {"route53": 150},
                             "operation_latency_ms": {"PutItem": 2000},
                             "throttle": [{"operation": "ChangeResourceRecordSets", "per_second": 5}],
                             "faults": [{"operation": "CreateService", "error": "AccessDenied",
                                         "skip": 0, "times": 1}]}
                            (an error: AccessDenied, Throttling, 500, reset (the connection
                            dropped), lost (the call made, its answer dropped), TransactionConflict
                            (a DynamoDB transaction cancelled so), or any other code, answered as is)
                            "moto_route53": false  (true: let Route 53 changes through as moto takes them)
                            "legacy_route53_errors": false  (true: refuse them in Route 53's older
                                                      shape, <InvalidChangeBatch><Messages>)
                            "aws_target_groups": false  (true: answer a CreateTargetGroup of a taken
                                                  name with that target group, as AWS does when the
                                                  settings are the same; moto refuses any taken name)
                            "alb_quotas": {"rules": 100, "target_groups": 100}  (AWS's defaults;
                                                  lower to reach them in a test)
                            "ecs_draining_ms": 0  (a deleted service shows DRAINING for that long,
                                                  and a new one of its name is refused, as ECS
                                                  does while it stops the tasks; moto: INACTIVE at once)
                            "ecs_unseen_rule_ms": 0  (CreateService refuses a target group whose
                                                  rule was made less than that ago: ECS learns of
                                                  a new rule a moment after ELB made it)
                            "route53_pending_ms": 0  (GetChange answers PENDING for a record change
                                                  made less than that ago, as Route 53 does until
                                                  the change reaches every name server; moto: INSYNC)
                            (replaces the rules and resets the counts)

Usage: awsproxy.py --upstream http://127.0.0.1:MOTO_PORT --port PORT [--latency-ms N]
                   [--route SERVICE=http://127.0.0.1:OTHER_PORT ...]
  --route sends the calls signed for SERVICE (ecs, dynamodb, s3...) to another moto: AWS's
  services answer side by side, one moto process answers one call at a time.
"""

import argparse
import contextlib
import http.client
import http.server
import json
import re
import threading
import time
import urllib.parse
from xml.etree import ElementTree

# operation name -> protocol family, for the shape of an error answer
JSON_TARGET_HEADER = "X-Amz-Target"
# What ECS keeps of a service and moto drops: on the service, and on its PRIMARY deployment.
KEPT_SERVICE_FIELDS = ("placementConstraints", "placementStrategy", "availabilityZoneRebalancing")
KEPT_DEPLOYMENT_FIELDS = ("serviceConnectConfiguration", "volumeConfigurations")


class Rules:
    def __init__(self, latency_ms=0):
        self.lock = threading.Lock()
        # AWS state, not a rule: kept when the rules change.
        self.service_settings = {}
        self.set({"latency_ms": latency_ms})

    def set(self, rules):
        with self.lock:
            self.latency = rules.get("latency_ms", 0) / 1000.0
            self.service_latency = {service: ms / 1000.0
                                    for service, ms in rules.get("service_latency_ms", {}).items()}
            self.operation_latency = {operation: ms / 1000.0
                                      for operation, ms in rules.get("operation_latency_ms", {}).items()}
            self.throttles = {t["operation"]: [t["per_second"], float(t["per_second"]), time.monotonic()]
                              for t in rules.get("throttle", [])}
            self.trace = []
            self.epoch = time.monotonic()
            self.faults = [dict(f, seen=0) for f in rules.get("faults", [])]
            self.moto_route53 = rules.get("moto_route53", False)
            self.legacy_route53_errors = rules.get("legacy_route53_errors", False)
            self.aws_target_groups = rules.get("aws_target_groups", False)
            self.alb_quotas = dict({"rules": 100, "target_groups": 100}, **rules.get("alb_quotas", {}))
            self.ecs_draining = rules.get("ecs_draining_ms", 0) / 1000.0
            self.draining = {}
            self.rule_unseen = rules.get("ecs_unseen_rule_ms", 0) / 1000.0
            self.forwarded = {}
            self.service_tokens = {}
            self.route53_pending = rules.get("route53_pending_ms", 0) / 1000.0
            self.record_changes = {}
            self.stats = {}

    def made_with_token(self, body):
        """A service made: a CreateService with its client token is answered with it, as ECS does."""
        token = json.loads(body or b"{}").get("clientToken")
        if token:
            with self.lock:
                self.service_tokens[token] = ecs_service_key(body, "serviceName")

    def made_by_token(self, body):
        with self.lock:
            return self.service_tokens.get(json.loads(body or b"{}").get("clientToken"))

    def keep_settings(self, body, field, made):
        """A service made (`made`) or updated: what moto drops of it, as ECS keeps it."""
        asked = json.loads(body or b"{}")
        kept = {k: asked[k] for k in KEPT_SERVICE_FIELDS + KEPT_DEPLOYMENT_FIELDS if k in asked}
        key = ecs_service_key(body, field)
        with self.lock:
            if made:
                self.service_settings[key] = kept
            else:
                self.service_settings.setdefault(key, {}).update(kept)

    def shown_services(self, data):
        """A DescribeServices answer as ECS gives it: with what ECS keeps of each service and moto
        drops, and the services still draining shown so."""
        found = json.loads(data)
        for svc in found.get("services", []):
            key = (svc.get("clusterArn", "").rsplit("/", 1)[-1], svc.get("serviceName"))
            with self.lock:
                kept = self.service_settings.get(key, {})
            svc.update({k: v for k, v in kept.items() if k in KEPT_SERVICE_FIELDS})
            for deployment in svc.get("deployments", []):
                if deployment.get("status") == "PRIMARY":
                    deployment.update({k: v for k, v in kept.items() if k in KEPT_DEPLOYMENT_FIELDS})
            if svc.get("status") == "INACTIVE" and self.still_draining(key):
                svc["status"] = "DRAINING"
        return json.dumps(found).encode()

    def drain(self, body):
        """A service deleted: DRAINING, as ECS keeps it while its tasks stop, for a while."""
        if self.ecs_draining:
            with self.lock:
                self.draining[ecs_service_key(body, "service")] = time.monotonic() + self.ecs_draining

    def still_draining(self, key):
        with self.lock:
            return self.draining.get(key, 0) > time.monotonic()

    def forwards(self, body):
        """A rule made: ECS sees its target groups on the ALB only `ecs_unseen_rule_ms` later."""
        made = urllib.parse.parse_qs(body.decode())
        with self.lock:
            for key, arns in made.items():
                if key.endswith("TargetGroupArn"):
                    self.forwarded.update({arn: time.monotonic() for arn in arns})

    def unseen_by_ecs(self, body):
        """The target groups of a CreateService whose rule ECS does not see yet."""
        wanted = json.loads(body or b"{}")
        with self.lock:
            return [lb["targetGroupArn"] for lb in wanted.get("loadBalancers", [])
                    if time.monotonic() - self.forwarded.get(lb.get("targetGroupArn"), -1e9) < self.rule_unseen]

    def changed_records(self, data):
        """Records changed: when, by the change's id, for GetChange to answer PENDING until
        `route53_pending_ms` later."""
        made = re.search(rb"<Id>(?:/change/)?([^<]+)</Id>", data)
        if made:
            with self.lock:
                self.record_changes[made.group(1).decode()] = time.monotonic()

    def shown_pending(self, path, data):
        """A GetChange answer as Route 53 gives it while the change is on its way."""
        with self.lock:
            made = self.record_changes.get(path.rstrip("/").rsplit("/", 1)[-1])
        if made is not None and time.monotonic() - made < self.route53_pending:
            return data.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
        return data

    def traced(self, operation, service, received):
        """Records when a call came in and when its answer went out, in ms since the rules were set."""
        with self.lock:
            self.trace.append([operation, round((received - self.epoch) * 1000, 1),
                               round((time.monotonic() - self.epoch) * 1000, 1), service])

    def spent(self, operation, seconds):
        """Adds up the time the upstream took per operation, in ms, as "ms:Operation"."""
        with self.lock:
            key = f"ms:{operation}"
            self.stats[key] = round(self.stats.get(key, 0) + seconds * 1000, 1)

    def decide(self, operation):
        """Counts the call and returns the fault to inject, or None."""
        with self.lock:
            self.stats[operation] = self.stats.get(operation, 0) + 1
            for fault in self.faults:
                if fault["operation"] != operation:
                    continue
                fault["seen"] += 1
                skip, times = fault.get("skip", 0), fault.get("times", 1)
                if skip < fault["seen"] <= skip + times:
                    return fault["error"]
            bucket = self.throttles.get(operation)
            if bucket is not None:
                rate, tokens, last = bucket
                now = time.monotonic()
                tokens = min(rate, tokens + (now - last) * rate)
                if tokens < 1:
                    bucket[1], bucket[2] = tokens, now
                    self.stats["throttled"] = self.stats.get("throttled", 0) + 1
                    return "Throttling"
                bucket[1], bucket[2] = tokens - 1, now
        return None


def service_of(headers):
    """The service a call is signed for: the fourth part of the SigV4 credential scope."""
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return scope.group(1) if scope else ""


def operation_of(method, path, headers, body):
    target = headers.get(JSON_TARGET_HEADER)
    if target:
        return target.rsplit(".", 1)[-1], "json"
    if method == "POST" and headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", ["Unknown"])[0]
        return action, "query"
    parsed = urllib.parse.urlparse(path)
    if parsed.path.startswith("/2013-04-01/"):
        parts = parsed.path.strip("/").split("/")
        if parts[-1] == "rrset":
            return ("ChangeResourceRecordSets" if method == "POST" else "ListResourceRecordSets"), "route53"
        if parts[1] == "hostedzone" and len(parts) == 3 and method == "GET":
            return "GetHostedZone", "route53"
        if parts[1] == "change" and method == "GET":
            return "GetChange", "route53"
        return f"Route53{method}", "route53"
    s3 = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
    return s3.get(method, f"S3{method}"), "s3"


ROUTE53_NS = "{https://route53.amazonaws.com/doc/2013-04-01/}"


def route53_refusal(upstream, path, headers, body):
    """What Route 53 would say to a change batch that moto takes: a CREATE over an existing record,
    or a DELETE of a record that is not there with those values. The lookups carry the change's
    own signature, by which moto knows the service."""
    zone = urllib.parse.urlparse(path).path.rstrip("/").rsplit("/", 1)[0]
    signed = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-amz-date")}
    conn = http.client.HTTPConnection(*upstream, timeout=60)
    try:
        for change in ElementTree.fromstring(body).iter(f"{ROUTE53_NS}Change"):
            action = change.findtext(f"{ROUTE53_NS}Action")
            if action not in ("CREATE", "DELETE"):
                continue
            record = change.find(f"{ROUTE53_NS}ResourceRecordSet")
            name = record.findtext(f"{ROUTE53_NS}Name").rstrip(".") + "."
            kind = record.findtext(f"{ROUTE53_NS}Type")
            found = lookup(conn, zone, signed, name, kind)
            said = f"Tried to {action.lower()} resource record set [name='{name}', type='{kind}'] but"
            if action == "CREATE" and found is not None:
                return f"{said} it already exists"
            if action == "DELETE" and found is None:
                return f"{said} it was not found"
            if action == "DELETE" and alias_target(found) != alias_target(record):
                return f"{said} the values provided do not match the current values"
    finally:
        conn.close()
    return None


def lookup(conn, zone, signed, name, kind):
    """The record set of this name and type, or None."""
    query = urllib.parse.urlencode({"name": name, "type": kind, "maxitems": "1"})
    conn.request("GET", f"{zone}/rrset?{query}", headers=signed)
    answer = conn.getresponse()
    listed = answer.read()
    if answer.status != 200:
        return None
    for found in ElementTree.fromstring(listed).iter(f"{ROUTE53_NS}ResourceRecordSet"):
        if found.findtext(f"{ROUTE53_NS}Name") == name and found.findtext(f"{ROUTE53_NS}Type") == kind:
            return found
    return None


def existing_target_group(conn, path, headers, body):
    """AWS's answer to a CreateTargetGroup of a name that a target group with the same settings
    has: that target group (settings are not compared here)."""
    name = urllib.parse.parse_qs(body.decode())["Name"][0]
    query = urllib.parse.urlencode({"Action": "DescribeTargetGroups", "Version": "2015-12-01",
                                    "Names.member.1": name}).encode()
    conn.request("POST", path, body=query, headers=dict(headers, **{"Content-Length": str(len(query))}))
    answer = conn.getresponse()
    return answer.status, answer.read().replace(b"DescribeTargetGroups", b"CreateTargetGroup")


ELB_NS = "{http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/}"


def listener_rule_refusal(upstream, path, headers, body, quotas):
    """What ELB would say to a CreateRule that moto takes: the error code and message of a rule
    past the ALB's quota of rules (the default rule aside), or of one that would make it forward to
    more target groups than its quota. Counted on the rule's listener: eden's ALBs have one."""
    form = urllib.parse.parse_qs(body.decode())
    new = {values[0] for key, values in form.items() if key.endswith("TargetGroupArn")}
    rules, target_groups, marker = 0, set(), None
    conn = http.client.HTTPConnection(*upstream, timeout=60)
    try:
        while True:
            query = {"Action": "DescribeRules", "Version": "2015-12-01", "ListenerArn": form["ListenerArn"][0]}
            if marker:
                query["Marker"] = marker
            data = urllib.parse.urlencode(query).encode()
            conn.request("POST", path, body=data, headers=dict(headers, **{"Content-Length": str(len(data))}))
            answer = conn.getresponse()
            listed = answer.read()
            if answer.status != 200:
                return None
            tree = ElementTree.fromstring(listed)
            for listing in tree.iter(f"{ELB_NS}Rules"):
                for rule in listing:
                    rules += rule.findtext(f"{ELB_NS}IsDefault") != "true"
                    target_groups.update(arn.text for arn in rule.iter(f"{ELB_NS}TargetGroupArn"))
            marker = tree.findtext(f".//{ELB_NS}NextMarker")
            if not marker:
                break
    finally:
        conn.close()
    if rules >= quotas["rules"]:
        return "TooManyRules", "The maximum number of rules has been reached for this load balancer"
    if len(target_groups | new) > quotas["target_groups"]:
        return ("TooManyUniqueTargetGroupsPerLoadBalancer",
                "You've reached the limit on the number of unique target groups per load balancer")
    return None


def alias_target(record):
    return (record.findtext(f"{ROUTE53_NS}AliasTarget/{ROUTE53_NS}DNSName") or "").rstrip(".").lower()


def target_group_refusal(elb, headers, arn):
    """What ECS says of a service's target group that is not there, or that no load balancer
    forwards to (moto takes both), asking ELB with the call's own credentials."""
    authorization = re.sub(r"(Credential=[^/]+/[^/]+/[^/]+/)[^/]+/", r"\1elasticloadbalancing/",
                           next((v for k, v in headers.items() if k.lower() == "authorization"), ""))
    query = urllib.parse.urlencode({"Action": "DescribeTargetGroups", "Version": "2015-12-01",
                                    "TargetGroupArns.member.1": arn}).encode()
    conn = http.client.HTTPConnection(*elb, timeout=60)
    try:
        conn.request("POST", "/", body=query, headers={
            "Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(query))})
        answer = conn.getresponse()
        listed = answer.read()
    finally:
        conn.close()
    if b"TargetGroupNotFound" in listed:
        return f"The target group with targetGroupArn {arn} does not exist."
    if answer.status == 200 and not ElementTree.fromstring(listed).findall(f".//{ELB_NS}LoadBalancerArns/{ELB_NS}member"):
        return f"The target group with targetGroupArn {arn} does not have an associated load balancer."
    return None


def described_services(upstream, path, headers, cluster, name):
    """The services of that name moto has, asked with a CreateService's own credentials."""
    query = json.dumps({"cluster": cluster, "services": [name]}).encode()
    asked = {k: v for k, v in headers.items() if k.lower() not in ("x-amz-target", "content-length")}
    target = next(v for k, v in headers.items() if k.lower() == "x-amz-target")
    asked["X-Amz-Target"] = target.replace("CreateService", "DescribeServices")
    asked["Content-Length"] = str(len(query))
    conn = http.client.HTTPConnection(*upstream, timeout=60)
    try:
        conn.request("POST", path, body=query, headers=asked)
        return json.loads(conn.getresponse().read() or b"{}").get("services", [])
    finally:
        conn.close()


def ecs_service_refusal(upstream, elb, path, headers, body):
    """What ECS says to a CreateService that moto takes: of a name the cluster has an ACTIVE
    service of (made by another call: one made with this call's client token is answered with
    that service before this is asked), or with a target group that is not there or not on a
    load balancer. The error's body, or None."""
    wanted = json.loads(body or b"{}")
    for lb in wanted.get("loadBalancers", []):
        refused = lb.get("targetGroupArn") and target_group_refusal(elb, headers, lb["targetGroupArn"])
        if refused:
            return json.dumps({"__type": "InvalidParameterException", "message": refused}).encode()
    found = described_services(upstream, path, headers, wanted.get("cluster", "default"), wanted.get("serviceName", ""))
    if any(svc.get("status") == "ACTIVE" for svc in found):
        return json.dumps({"__type": "InvalidParameterException",
                           "message": "Creation of service was not idempotent."}).encode()
    return None


def ecs_service_key(body, field):
    """(cluster name, service name) of an ECS call whose `field` names the service."""
    asked = json.loads(body or b"{}")
    return (asked.get("cluster", "default").rsplit("/", 1)[-1], asked.get(field, "").rsplit("/", 1)[-1])


def error_answer(protocol, error):
    """Status, content type and body of an AWS error in the protocol's own shape."""
    if error == "500":
        code, status = "InternalError", 500
    elif error == "Throttling":
        code = {"json": "ThrottlingException", "s3": "SlowDown"}.get(protocol, "Throttling")
        status = 503 if protocol == "s3" else 400
    elif error == "TransactionConflict":
        # DynamoDB cancels a transaction when another write of one of its items is in flight.
        return 400, "application/x-amz-json-1.0", json.dumps({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
            "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}],
        }).encode()
    else:
        code = "AccessDeniedException" if protocol == "json" and error == "AccessDenied" else error
        status = 403 if error == "AccessDenied" else 400
    message = f"{error} injected by awsproxy"
    if protocol == "json":
        return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}).encode()
    if protocol == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>awsproxy</RequestId></ErrorResponse>")
    return status, "text/xml", body.encode()


def address(url):
    host, port = urllib.parse.urlparse(url).netloc.split(":")
    return host, int(port)


class OneAtATime:
    """One lock per thing that AWS changes in one step and moto in several: a listener rule within
    its quotas, a conditional write of a DynamoDB item, a conditional write of an S3 object (moto checks If-Match or If-None-Match, then writes: a write of another thread
    between the two is lost), and a hosted zone's records (moto's DELETE builds the zone's list
    of records anew from the old one, and a change made meanwhile is lost; the proxy's own check
    of a change must also see the zone as the change finds it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.locks = {}

    def of(self, operation, path, headers):
        conditional = "If-Match" in headers or "If-None-Match" in headers
        if operation == "ChangeResourceRecordSets" or (operation in ("PutObject", "DeleteObject") and conditional):
            key = urllib.parse.urlparse(path).path
        elif operation in ("CreateRule", "CreateService"):
            # Its quotas, or whether the name is taken, are checked before it is made.
            key = operation
        elif operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            # moto reads the item, checks the condition, then writes: two writers can both pass.
            key = "dynamodb"
        else:
            return contextlib.nullcontext()
        with self.lock:
            return self.locks.setdefault(key, threading.Lock())


def make_handler(upstream, routes, rules):
    """`routes`: service -> upstream URL, for the services that do not go to `upstream`."""
    default = address(upstream)
    addresses = {service: address(url) for service, url in routes.items()}
    local = threading.local()
    one_at_a_time = OneAtATime()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by tens of milliseconds.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def answer(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def control(self, body):
            if self.command == "POST" and self.path == "/__proxy/rules":
                rules.set(json.loads(body or b"{}"))
                return self.answer(200, "application/json", b"{}")
            with rules.lock:
                stats = list(rules.trace) if self.path == "/__proxy/trace" else dict(rules.stats)
            return self.answer(200, "application/json", json.dumps(stats).encode())

        def exchange(self, conn, body, headers):
            """This call sent upstream on `conn`: (response, its body)."""
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            return response, response.read()

        def forward(self):
            body = self.read_body()
            if self.path.startswith("/__proxy/"):
                return self.control(body)
            received = time.monotonic()
            operation, protocol = operation_of(self.command, self.path, self.headers, body)
            fault = rules.decide(operation)
            service = service_of(self.headers)
            latency = rules.operation_latency.get(operation, rules.service_latency.get(service, rules.latency))
            if latency:
                time.sleep(latency)
            if fault == "reset":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault and fault != "lost":
                return self.answer(*error_answer(protocol, fault))
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("transfer-encoding", "connection", "content-length")}
            headers["Content-Length"] = str(len(body))
            started = time.monotonic()
            host, port = addresses.get(service, default)
            conns = local.__dict__.setdefault("conns", {})
            conn = conns.get((host, port)) or http.client.HTTPConnection(host, port, timeout=60)
            with one_at_a_time.of(operation, self.path, self.headers):
                refused = over_quota = None
                if operation == "ChangeResourceRecordSets" and not rules.moto_route53:
                    refused = route53_refusal((host, port), self.path, self.headers, body)
                    # Each CREATE is found absent above. moto refuses one it has seen before when
                    # any record sorts after its name (its check looks past the name), so it goes
                    # as the UPSERT it then is.
                    body = body.replace(b"<Action>CREATE</Action>", b"<Action>UPSERT</Action>")
                    headers["Content-Length"] = str(len(body))
                if operation == "CreateRule":
                    over_quota = listener_rule_refusal((host, port), self.path, headers, body, rules.alb_quotas)
                if operation == "CreateService" and rules.made_by_token(body):
                    made = described_services((host, port), self.path, headers, *rules.made_by_token(body))
                    answer = json.dumps({"service": next(svc for svc in made if svc.get("status") == "ACTIVE")})
                    self.answer(200, "application/x-amz-json-1.1", answer.encode())
                    return rules.traced(operation, service, received)
                if operation == "CreateService":
                    elb = addresses.get("elasticloadbalancing", default)
                    taken = ecs_service_refusal((host, port), elb, self.path, headers, body)
                    if rules.still_draining(ecs_service_key(body, "serviceName")):
                        taken = json.dumps({"__type": "InvalidParameterException",
                                            "message": "Unable to Start a service that is still Draining."}).encode()
                    for arn in rules.unseen_by_ecs(body):
                        taken = json.dumps({"__type": "InvalidParameterException", "message":
                                            f"The target group with targetGroupArn {arn} does not have an associated load balancer."}).encode()
                    if taken:
                        self.answer(400, "application/x-amz-json-1.1", taken)
                        return rules.traced(operation, service, received)
                if over_quota:
                    code, message = over_quota
                    error = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                             f"<Message>{message}</Message></Error><RequestId>awsproxy</RequestId></ErrorResponse>")
                    self.answer(400, "text/xml", error.encode())
                    return rules.traced(operation, service, received)
                if not refused:
                    try:
                        response, data = self.exchange(conn, body, headers)
                    except (http.client.HTTPException, OSError):
                        # A kept connection moto closed meanwhile: once more on a new one.
                        conn.close()
                        conn = http.client.HTTPConnection(host, port, timeout=60)
                        response, data = self.exchange(conn, body, headers)
            if refused and rules.legacy_route53_errors:
                refusal = (f'<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="{ROUTE53_NS[1:-1]}"><Messages>'
                           f"<Message>{refused}</Message></Messages><RequestId>awsproxy</RequestId></InvalidChangeBatch>")
            elif refused:
                refusal = (f"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code>"
                           f"<Message>[{refused}]</Message></Error><RequestId>awsproxy</RequestId></ErrorResponse>")
            if refused:
                self.answer(400, "text/xml", refusal.encode())
                return rules.traced(operation, service, received)
            status = response.status
            if (operation == "CreateTargetGroup" and rules.aws_target_groups and status == 400
                    and b"DuplicateTargetGroupName" in data):
                status, data = existing_target_group(conn, self.path, headers, body)
            if operation == "CreateService" and status == 200:
                rules.made_with_token(body)
                rules.keep_settings(body, "serviceName", made=True)
            if operation == "UpdateService" and status == 200:
                rules.keep_settings(body, "service", made=False)
            if fault == "lost":
                # AWS made the change, and its answer never reached the caller.
                conns[(host, port)] = conn
                self.close_connection = True
                self.connection.shutdown(2)
                return rules.traced(operation, service, received)
            if operation == "DeleteService" and status == 200:
                rules.drain(body)
            if operation == "CreateRule" and status == 200:
                rules.forwards(body)
            if operation == "DescribeServices" and status == 200:
                data = rules.shown_services(data)
            if operation == "ChangeResourceRecordSets" and status == 200:
                rules.changed_records(data)
            if operation == "GetChange" and status == 200:
                data = rules.shown_pending(self.path, data)
            conns[(host, port)] = conn
            rules.spent(operation, time.monotonic() - started)
            self.send_response(status)
            for k, v in response.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            rules.traced(operation, service, received)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return Handler


class Server(http.server.ThreadingHTTPServer):
    # eden opens a connection per concurrent call; the default backlog of 5 drops the rest of a
    # burst, and the kernel retries a dropped connection only after a second.
    request_queue_size = 128
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--route", action="append", default=[], metavar="SERVICE=URL")
    args = parser.parse_args()
    rules = Rules(args.latency_ms)
    routes = dict(route.split("=", 1) for route in args.route)
    server = Server(("127.0.0.1", args.port), make_handler(args.upstream, routes, rules))
    server.serve_forever()


if __name__ == "__main__":
    main()
