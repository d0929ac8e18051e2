"""Parses the Terraform module in deploy/terraform (no Terraform binary is at hand here) and prints
its variables, the Lambda runtime and every IAM action it grants, as JSON."""

import glob
import json
import os
import re

import hcl2

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.path.join(os.path.dirname(HERE), "deploy", "terraform")

variables, resources, text = [], {}, ""
for path in sorted(glob.glob(os.path.join(MODULE, "*.tf"))):
    with open(path) as f:
        source = f.read()
    text += source
    parsed = hcl2.loads(source)
    for block in parsed.get("variable", []):
        variables.extend(block)
    for block in parsed.get("resource", []):
        for kind, named in block.items():
            resources.setdefault(kind.strip('"'), []).extend(named.values())

function = resources["aws_lambda_function"][0]
# Every "service:Name" string that is not a condition key.
CONDITION_KEYS = {"ecs:CreateAction", "iam:PassedToService"}
strings = re.findall(r'"((?:ecs|elasticloadbalancing|route53|s3|dynamodb|ecr|iam|acm|tag):[A-Za-z*]+)"', text)
actions = sorted(set(strings) - CONDITION_KEYS)
print(json.dumps({
    "variables": sorted(v.strip('"') for v in variables),
    "runtime": function["runtime"].strip('"'),
    "handler": function["handler"].strip('"'),
    "actions": actions,
}))
