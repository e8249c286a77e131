#!/usr/bin/env python3
"""Starts moto's S3-compatible server on loopback with request signing enforced, for pixflow's tests.

usage: moto_up.py  — prints one JSON line {"endpoint", "access_key", "secret_key", "region",
"distribution_id"} once the server is ready, the test user exists and a CloudFront distribution
(for invalidations) has been made, then serves until its standard input closes (the test
process dying closes it too, so no server outlives its tests).

moto checks signatures only once INITIAL_NO_AUTH_ACTION_COUNT unauthenticated calls have been made;
the first three calls create an IAM user, its key and a policy allowing S3. From then on a wrong
secret is refused, as AWS would."""
import json, os, socket, sys

os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
endpoint = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="pixflow-test")
key = iam.create_access_key(UserName="pixflow-test")["AccessKey"]
iam.put_user_policy(UserName="pixflow-test", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "cloudfront:*"], "Resource": "*"}]}))
cloudfront = boto3.client("cloudfront", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
distribution = cloudfront.create_distribution(DistributionConfig={
    "CallerReference": "pixflow-tests", "Comment": "pixflow tests", "Enabled": True,
    "Origins": {"Quantity": 1, "Items": [{
        "Id": "image", "DomainName": "abcdefghijklmnopqrstuvwxyz0.lambda-url.us-east-1.on.aws",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
    "DefaultCacheBehavior": {"TargetOriginId": "image", "ViewerProtocolPolicy": "redirect-to-https",
                             "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
})["Distribution"]["Id"]
print(json.dumps({"endpoint": endpoint, "access_key": key["AccessKeyId"],
                  "secret_key": key["SecretAccessKey"], "region": "us-east-1",
                  "distribution_id": distribution}), flush=True)
sys.stdin.read()
server.stop()
