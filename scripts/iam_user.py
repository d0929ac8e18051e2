"""Makes an IAM user in moto with the given policy, prints its access key as JSON, and turns on
moto's IAM enforcement for every call after this one. For the least-privilege test.

Usage: iam_user.py --endpoint http://127.0.0.1:PORT --policy POLICY.json
"""

import argparse
import json
import os
import urllib.request

import boto3


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--policy", required=True)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=args.endpoint)
    iam.create_user(UserName="eden")
    with open(args.policy) as f:
        iam.put_user_policy(UserName="eden", PolicyName="eden", PolicyDocument=f.read())
    key = iam.create_access_key(UserName="eden")["AccessKey"]
    # From now on moto checks every call against the caller's policies.
    enforce = urllib.request.Request(f"{args.endpoint}/moto-api/reset-auth", data=b"0",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(enforce).read()
    print(json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))


if __name__ == "__main__":
    main()
