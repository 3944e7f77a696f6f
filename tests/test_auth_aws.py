"""aws_sigv4: AWS's published Signature Version 4 test suite, signing of final requests prepared by requests
(checked against botocore's signer), credentials and region from the call, the environment and botocore's
chain, and a clear error without botocore."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from auth_support import MESSAGES, SECRET, TOKEN, build, provider_client, signed

from litellm_sync._engine.auth_aws import AwsCredentials, AwsSigV4Auth, sign
from litellm_sync.exceptions import ConfigurationError

SUITE = json.loads((Path(__file__).parent / "cases" / "sigv4" / "aws-sig-v4-test-suite.json").read_text("utf-8"))
CONFIG = SUITE["config"]
SUITE_CREDENTIALS = AwsCredentials(CONFIG["access_key"], CONFIG["secret_key"])
SUITE_TIME = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.timezone.utc)
AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_SIGNED",
)


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    # botocore, when used, reads only these files and never probes the instance metadata service.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


# -- the AWS Signature Version 4 test suite -------------------------------------------------------------------


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_sigv4_matches_the_aws_test_suite(case: dict[str, Any]) -> None:
    request = case["request"]
    credentials = AwsCredentials(CONFIG["access_key"], CONFIG["secret_key"])
    payload_hash = hashlib.sha256(request["body"].encode()).hexdigest()
    result = sign(
        request["method"],
        request["path"],
        request["query"],
        [tuple(h) for h in request["headers"]],
        payload_hash,
        credentials,
        CONFIG["region"],
        CONFIG["service"],
        CONFIG["amz_date"],
    )
    assert result.canonical_request == case["creq"]
    assert result.string_to_sign == case["sts"]
    assert result.authorization == case["authz"]


@pytest.mark.parametrize("name", ["get-vanilla", "get-vanilla-query-order-key-case", "get-vanilla-utf8-query"])
def test_a_requests_prepared_request_signs_as_the_suite_says(name: str) -> None:
    case = next(c for c in SUITE["cases"] if c["name"] == name)
    query = case["request"]["query"]
    url = "https://example.amazonaws.com/" + (f"?{query}" if query else "")
    auth = AwsSigV4Auth(lambda: SUITE_CREDENTIALS, "us-east-1", "service", clock=lambda: SUITE_TIME)
    request = requests.Request("GET", url, auth=auth).prepare()
    assert request.headers["Authorization"] == case["authz"]
    assert request.headers["X-Amz-Date"] == "20150830T123600Z"


def test_signing_a_prepared_request_sets_the_aws_headers() -> None:
    creds = AwsCredentials("AKIDEXAMPLE", SECRET, TOKEN)
    body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
    auth = AwsSigV4Auth(lambda: creds, "us-west-2", "bedrock", content_sha256=True, clock=lambda: SUITE_TIME)
    url = "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A1%3Aprofile%2Fx/converse"
    request = requests.Request(
        "POST", url, data=body, headers={"Content-Type": "application/json"}, auth=auth
    ).prepare()
    headers = request.headers
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["X-Amz-Security-Token"] == TOKEN
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/bedrock/aws4_request, ")
    assert (
        "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"
        in authorization
    )
    # The body is signed: another body gives another signature.
    other = requests.Request(
        "POST", url, data=body + b" ", headers={"Content-Type": "application/json"}, auth=auth
    ).prepare()
    assert other.headers["Authorization"].split("Signature=")[1] != authorization.split("Signature=")[1]
    # Without a token or the option, neither header is sent (Bedrock needs no x-amz-content-sha256).
    plain = AwsSigV4Auth(
        lambda: AwsCredentials("AKIDEXAMPLE", SECRET), "us-west-2", "bedrock", clock=lambda: SUITE_TIME
    )
    request = requests.Request("POST", url, data=body, auth=plain).prepare()
    assert "X-Amz-Security-Token" not in request.headers and "X-Amz-Content-SHA256" not in request.headers


def test_signature_equals_botocores(monkeypatch: pytest.MonkeyPatch) -> None:
    botocore_auth = pytest.importorskip("botocore.auth")
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if not hasattr(botocore_auth, "get_current_datetime"):
        pytest.skip("this botocore reads the clock another way")
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: SUITE_TIME.replace(tzinfo=None))
    url = "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude%3A0/converse-stream?b=2&a=%2F1"
    body = json.dumps({"messages": MESSAGES}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Content-Length": str(len(body))}
    reference = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    botocore_auth.SigV4Auth(Credentials("AKIDEXAMPLE", SECRET, TOKEN), "bedrock", "eu-west-1").add_auth(reference)
    ours = AwsSigV4Auth(
        lambda: AwsCredentials("AKIDEXAMPLE", SECRET, TOKEN), "eu-west-1", "bedrock", clock=lambda: SUITE_TIME
    )
    mine = requests.Request("POST", url, data=body, headers=headers, auth=ours).prepare()
    assert mine.headers["Authorization"] == reference.headers["Authorization"]


# -- aws_sigv4 in a spec: credentials, region, call arguments ----------------------------------------------------


def test_spec_mechanism_signs_with_call_credentials_and_keeps_them_out_of_the_body() -> None:
    client = provider_client(
        {"mechanism": "aws_sigv4", "service": "bedrock"}, headers={"x-region": "${aws_region_name}"}
    )
    prepared = build(
        client,
        aws_access_key_id="AKIDCALL",
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        aws_region_name="ap-south-1",
        temperature=0.5,
    )
    body = json.loads(prepared.body)
    assert body["temperature"] == 0.5
    assert not [k for k in body if k.startswith("aws_")]
    assert prepared.headers["x-region"] == "ap-south-1"  # a public call argument reaches templates
    request = signed(prepared)
    assert "Credential=AKIDCALL/" in request.headers["Authorization"]
    assert "/ap-south-1/bedrock/aws4_request" in request.headers["Authorization"]
    assert request.headers["X-Amz-Security-Token"] == TOKEN


def test_environment_credentials_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    request = signed(build(client))
    assert "Credential=AKIDENV/" in request.headers["Authorization"]
    assert "/eu-central-1/bedrock/" in request.headers["Authorization"]
    assert "X-Amz-Security-Token" not in request.headers
    # A region template in the spec wins over the environment.
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock", "region": "us-gov-west-1"})
    assert "/us-gov-west-1/bedrock/" in signed(build(client)).headers["Authorization"]


def test_a_key_wins_over_the_mechanism() -> None:
    auth = {
        "header": "Authorization",
        "value": "Bearer ${api_key}",
        "env": ["AWS_BEARER_TOKEN_SIGNED"],
        "mechanism": "aws_sigv4",
        "service": "bedrock",
    }
    prepared = build(provider_client(auth), api_key="bedrock-api-key-value")
    assert prepared.auth is None
    assert prepared.headers["authorization"] == "Bearer bedrock-api-key-value"
    with pytest.raises(ConfigurationError, match="No AWS credentials") as caught:  # no key: the mechanism signs
        build(provider_client(auth))
    assert "Or use a key instead: set AWS_BEARER_TOKEN_SIGNED or pass api_key=." in str(caught.value)


def test_botocore_profile_credentials(tmp_path: Path) -> None:
    pytest.importorskip("botocore")
    (tmp_path / "aws-credentials").write_text(
        f"[team]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {SECRET}\n"
    )
    (tmp_path / "aws-config").write_text("[profile team]\nregion = sa-east-1\n")
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    request = signed(build(client, aws_profile_name="team"))
    assert "Credential=AKIDPROFILE/" in request.headers["Authorization"]
    assert "/sa-east-1/bedrock/" in request.headers["Authorization"]


def test_missing_credentials_region_and_half_a_key_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    with pytest.raises(ConfigurationError, match="aws_secret_access_key"):
        build(client, aws_access_key_id="AKIDCALL")
    with pytest.raises(ConfigurationError, match="No AWS region") as caught:
        build(client, aws_access_key_id="AKIDCALL", aws_secret_access_key=SECRET)
    assert SECRET not in str(caught.value)
    with pytest.raises(ConfigurationError, match="line break") as caught:
        build(client, aws_access_key_id="AKIDCALL", aws_secret_access_key=SECRET + "\n", aws_region_name="us-east-1")
    assert SECRET not in str(caught.value)


def test_without_botocore_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    with pytest.raises(ConfigurationError, match=r'pip install "litellm_sync\[aws\]"'):
        build(client, aws_region_name="us-east-1")
