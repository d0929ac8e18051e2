"""Checks deploy/cloudformation/eden-api.yaml: cfn-lint, then a stack of it in moto, whose IAM
role, Lambda function and DynamoDB table must come out as eden needs them. moto skips the
function URL (AWS::Lambda::Url). Prints what it found as JSON; exits non-zero on any problem.

Usage: check_cloudformation.py --endpoint http://127.0.0.1:MOTO_PORT
"""

import argparse
import ast
import io
import json
import os
import subprocess
import sys
import time
import urllib.parse
import zipfile

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(os.path.dirname(HERE), "deploy", "cloudformation", "eden-api.yaml")


# Resources moto's CloudFormation skips, and what refers to them.
SKIPPED = {"AWS::Lambda::Url", "AWS::Lambda::Permission"}


def supported_by_moto(path):
    """The template without the resources moto skips and the outputs that name them."""
    from cfnlint.decode import decode

    template, problems = decode(path)
    if problems:
        sys.exit(f"cannot read {path}: {problems}")
    template = json.loads(json.dumps(template))
    skipped = {name for name, r in template["Resources"].items() if r["Type"] in SKIPPED}
    # Whatever refers to a skipped resource goes too, and what refers to that (the gc schedule
    # calls the function URL).
    while True:
        more = {name for name, r in template["Resources"].items()
                if name not in skipped and any(s in json.dumps(r) for s in skipped)}
        if not more:
            break
        skipped |= more
    for name in skipped:
        del template["Resources"][name]
    template["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items()
                           if not any(name in json.dumps(v) for name in skipped)}
    return template


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    lint = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), TEMPLATE],
                          capture_output=True, text=True)
    if lint.returncode != 0:
        sys.exit(f"cfn-lint found problems:\n{lint.stdout}{lint.stderr}")

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = lambda name: boto3.client(name, region_name="us-east-1", endpoint_url=args.endpoint)
    s3, cfn, iam, lam, ddb = (client(n) for n in ("s3", "cloudformation", "iam", "lambda", "dynamodb"))

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("bootstrap", b"#!/bin/sh\n")
    s3.create_bucket(Bucket="eden-packages")
    s3.put_object(Bucket="eden-packages", Key="eden.zip", Body=package.getvalue())
    body = json.dumps(supported_by_moto(TEMPLATE))
    parameters = {"LambdaPackageBucket": "eden-packages", "ApiKeys": "k1,k2", "EndpointsBucketName": "config",
                  "DynamicZoneId": "Z0123456789ABC"}
    cfn.create_stack(StackName="eden", TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    for _ in range(100):
        status = cfn.describe_stacks(StackName="eden")["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    if status != "CREATE_COMPLETE":
        sys.exit(f"stack status {status}")

    function = lam.get_function(FunctionName="eden")["Configuration"]
    table = ddb.describe_table(TableName="eden")["Table"]
    policy = iam.get_role_policy(RoleName="eden-function", PolicyName="eden")["PolicyDocument"]
    if isinstance(policy, str):
        # moto keeps a policy made by CloudFormation as the repr of a Python dict.
        policy = ast.literal_eval(urllib.parse.unquote(policy))
    def actions_of(statement):
        return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]

    found = {
        "runtime": function["Runtime"],
        "handler": function["Handler"],
        "environment": sorted(function["Environment"]["Variables"]),
        "role": function["Role"].rsplit("/", 1)[1],
        "table_keys": [k["AttributeName"] for k in table["KeySchema"]],
        "table_index": [i["IndexName"] for i in table["GlobalSecondaryIndexes"]],
        "actions": sorted({a for s in policy["Statement"] for a in actions_of(s)}),
        "actions_on_any_resource": sorted(a for s in policy["Statement"] if s["Resource"] == "*" for a in actions_of(s)),
    }
    print(json.dumps(found))


if __name__ == "__main__":
    main()
