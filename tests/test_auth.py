"""Auth mechanisms: SigV4 against AWS's published test suite, signing of final requests prepared by requests,
credential and region lookup, google_oauth token refresh across threads and forks, spec errors, optional
packages, and no secret in any repr or error."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from litellm_sync import Client
from litellm_sync._engine.auth_aws import AwsCredentials, AwsSigV4Auth, sign
from litellm_sync._engine.auth_google import GoogleOAuthAuth, TokenSource
from litellm_sync.exceptions import AuthenticationError, ConfigurationError, SpecError

SUITE = json.loads((Path(__file__).parent / "cases" / "sigv4" / "aws-sig-v4-test-suite.json").read_text("utf-8"))
CONFIG = SUITE["config"]
SUITE_CREDENTIALS = AwsCredentials(CONFIG["access_key"], CONFIG["secret_key"])
SUITE_TIME = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.timezone.utc)
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "SessionTokenSecretValue0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]
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


def provider_client(auth: dict[str, Any], **extra: Any) -> Client:
    entry = {"extends": "openai_chat", "base_url": "https://bedrock-runtime.us-east-1.amazonaws.com", "auth": auth}
    return Client(providers={"providers": {"signed": {**entry, **extra}}})


def build(client: Client, **params: Any) -> Any:
    provider, model, info = client.resolve("signed/some-model")
    api_key = params.pop("api_key", None)
    return provider.builder.build(
        model,
        MESSAGES,
        params,
        stream=False,
        api_key=api_key,
        api_base=None,
        api_version=None,
        extra_headers=None,
        drop_params=False,
        info=info,
    )


def signed(prepared: Any) -> requests.PreparedRequest:
    """Apply the call's auth to the request as requests prepares it (the transport passes auth= to requests)."""
    return requests.Request(
        prepared.method, prepared.url, headers=prepared.headers, data=prepared.body, auth=prepared.auth
    ).prepare()


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
    with pytest.raises(ConfigurationError, match="No AWS credentials"):  # no key: the mechanism, which needs creds
        build(provider_client(auth))


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


# -- spec errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"mechanism": "kerberos"},
            "providers.signed.auth.mechanism: unknown mechanism 'kerberos' (known: aws_sigv4, google_oauth)",
        ),
        ({"mechanism": "aws_sigv4"}, "providers.signed.auth.service: Missing data for required option"),
        (
            {"mechanism": "aws_sigv4", "service": "s", "colour": "x"},
            "providers.signed.auth.colour: Unknown option of mechanism aws_sigv4",
        ),
        (
            {"mechanism": "aws_sigv4", "service": "s", "content_sha256": "yes"},
            "providers.signed.auth.content_sha256: Not a valid boolean",
        ),
        (
            {"mechanism": "google_oauth", "scopes": 3},
            "providers.signed.auth.scopes: Expected a string or a list of strings",
        ),
        ({"mechanism": "aws_sigv4", "service": {"$nope": 1}}, "providers.signed.auth.service: Not a valid template"),
    ],
)
def test_spec_errors_name_their_path(auth: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        provider_client(auth)
    assert message in str(caught.value)


def test_options_left_from_another_mechanism_are_a_compile_error() -> None:
    spec = {
        "dialects": {
            "signed_base": {"extends": "openai_chat", "auth": {"mechanism": "aws_sigv4", "service": "bedrock"}}
        },
        "providers": {
            "vertexish": {
                "extends": "signed_base",
                "base_url": "https://x.example",
                "auth": {"mechanism": "google_oauth"},
            }
        },
    }
    with pytest.raises(
        SpecError, match=r"providers\.vertexish: auth\.service: Unknown option of mechanism google_oauth"
    ):
        Client(providers=spec)


# -- google_oauth -------------------------------------------------------------------------------------------------


class FakeCredentials:
    """Stands in for google-auth credentials: counts refreshes; each one takes a little while."""

    def __init__(self, token: str | None = None, expires_in: float = 3600) -> None:
        self.token = token
        self.expiry = dt.datetime.utcnow() + dt.timedelta(seconds=expires_in) if token else None
        self.refreshes = 0
        self.quota_project_id = None

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        time.sleep(0.02)
        self.token = f"ya29.fresh-{self.refreshes}"
        self.expiry = dt.datetime.utcnow() + dt.timedelta(hours=1)


def google_client() -> Client:
    return provider_client({"mechanism": "google_oauth"})


def test_one_refresh_for_many_threads_and_the_bearer_header() -> None:
    client = google_client()
    fake = FakeCredentials()
    barrier = threading.Barrier(16)
    headers: list[str] = []

    def call() -> None:
        prepared = build(client, vertex_credentials=fake)
        barrier.wait()
        headers.append(signed(prepared).headers["Authorization"])

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.refreshes == 1
    assert headers == ["Bearer ya29.fresh-1"] * 16


def test_token_is_refreshed_before_it_expires() -> None:
    client = google_client()
    soon = FakeCredentials("ya29.old", expires_in=120)  # inside the refresh margin
    assert signed(build(client, vertex_credentials=soon)).headers["Authorization"] == "Bearer ya29.fresh-1"
    later = FakeCredentials("ya29.still-good", expires_in=3000)
    assert signed(build(client, vertex_credentials=later)).headers["Authorization"] == "Bearer ya29.still-good"
    assert later.refreshes == 0


def test_a_forked_child_gets_its_own_token_source(monkeypatch: pytest.MonkeyPatch) -> None:
    client = google_client()
    mechanism = client.resolve("signed/m")[0].builder.connection.mechanism
    fake = FakeCredentials("ya29.shared", expires_in=120)
    loaded: list[FakeCredentials] = []
    monkeypatch.setattr(mechanism, "_load", lambda kind, given: loaded.append(FakeCredentials()) or loaded[-1])
    parent, parent_default = mechanism.source(fake), mechanism.source(None)
    assert mechanism.source(fake).state is parent.state and mechanism.source(None) is parent_default
    parent.state.lock.acquire()  # a parent thread was refreshing when the process forked
    parent_default.state.lock.acquire()
    try:
        monkeypatch.setattr(os, "getpid", lambda: -42)
        child, child_default = mechanism.source(fake), mechanism.source(None)
        assert child.state is not parent.state and child.pid == -42
        assert child_default is not parent_default and child_default.credentials is not parent_default.credentials
        assert len(loaded) == 2  # application default credentials were loaded anew in the child
        request = requests.Request("POST", "https://x.example/").prepare()
        assert GoogleOAuthAuth(child)(request).headers["Authorization"] == "Bearer ya29.fresh-1"  # no deadlock
        assert child_default.token() == "ya29.fresh-1"
    finally:
        parent.state.lock.release()
        parent_default.state.lock.release()


def test_service_account_file_refreshes_through_the_token_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("google.auth")
    responses = pytest.importorskip("responses")
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "1",
        "private_key": pem.decode(),
        "client_email": "svc@p.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    client = google_client()
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            "https://oauth2.googleapis.com/token",
            json={"access_token": "ya29.from-endpoint", "expires_in": 3600, "token_type": "Bearer"},
        )
        first = signed(build(client, vertex_credentials=str(path)))
        second = signed(build(client))  # application default credentials: the same file, via the variable
        third = signed(build(client, vertex_credentials=str(path)))
        assert first.headers["Authorization"] == third.headers["Authorization"] == "Bearer ya29.from-endpoint"
        assert second.headers["Authorization"] == "Bearer ya29.from-endpoint"
        assert len(mock.calls) == 2  # one for the file's source, one for the default source; then cached


def test_refresh_failures_are_ours_and_show_no_token() -> None:
    class Refused(FakeCredentials):
        def refresh(self, request: Any) -> None:
            raise RuntimeError("invalid_grant for token ya29.leaked-token")

    source = TokenSource(Refused("ya29.leaked-token", expires_in=1), "signed")
    with pytest.raises(AuthenticationError) as caught:
        source.token()
    assert "ya29.leaked-token" not in str(caught.value) and "ya29" not in repr(caught.value)


def test_without_google_auth_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google", None)
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(ConfigurationError, match=r'pip install "litellm_sync\[google\]"'):
        build(google_client())


def test_bad_vertex_credentials_are_configuration_errors(tmp_path: Path) -> None:
    pytest.importorskip("google.auth")
    client = google_client()
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        build(client, vertex_credentials="{not json")
    with pytest.raises(ConfigurationError, match="Cannot read"):
        build(client, vertex_credentials=str(tmp_path / "missing.json"))
    leaked = {
        "type": "service_account",
        "private_key": "-----BEGIN PRIVATE KEY-----\nLEAKME\n-----END PRIVATE KEY-----\n",
        "client_email": "a@b",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    with pytest.raises(ConfigurationError) as caught:
        build(client, vertex_credentials=leaked)
    assert "LEAKME" not in str(caught.value)


# -- no secrets in reprs; optional packages not imported ----------------------------------------------------------


def test_reprs_show_no_secret() -> None:
    creds = AwsCredentials("AKIDEXAMPLE", SECRET, TOKEN)
    auth = AwsSigV4Auth(lambda: creds, "us-east-1", "bedrock")
    client = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    prepared = build(
        client,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        aws_region_name="us-east-1",
    )
    fake = FakeCredentials("ya29.secret-token-value")
    texts = [
        repr(creds),
        repr(auth),
        repr(prepared),
        repr(prepared.auth),
        repr(client),
        repr(GoogleOAuthAuth(TokenSource(fake, "g"))),
        repr(TokenSource(fake, "g")),
    ]
    for text in texts:
        assert SECRET not in text and TOKEN not in text and "ya29" not in text


def test_optional_packages_are_not_imported_with_the_library() -> None:
    code = (
        "import sys, litellm_sync\n"
        "litellm_sync.Client(providers={'providers': {'s': {'extends': 'openai_chat', 'base_url': 'https://x',"
        " 'auth': {'mechanism': 'aws_sigv4', 'service': 'bedrock'}}, 'g': {'extends': 'openai_chat',"
        " 'base_url': 'https://y', 'auth': {'mechanism': 'google_oauth'}}}})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', 'google')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- docs/auth.md stays true ----------------------------------------------------------------------------------------


def test_the_yaml_examples_in_the_auth_doc_sign_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "auth.md").read_text("utf-8")
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", doc, re.S)]
    assert len(blocks) == 2
    client = Client(providers=blocks)
    params = {"aws_access_key_id": "AKIDDOC", "aws_secret_access_key": SECRET, "aws_region_name": "eu-west-3"}
    aws = client.resolve("iam_gateway/m")[0].builder.build(
        "m",
        MESSAGES,
        params,
        stream=False,
        api_key=None,
        api_base=None,
        api_version=None,
        extra_headers=None,
        drop_params=False,
        info=None,
    )
    assert "/eu-west-3/execute-api/aws4_request" in signed(aws).headers["Authorization"]
    google = client.resolve("vertex_openai/m")[0].builder.build(
        "m",
        MESSAGES,
        {"vertex_credentials": FakeCredentials()},
        stream=False,
        api_key=None,
        api_base=None,
        api_version=None,
        extra_headers=None,
        drop_params=False,
        info=None,
    )
    assert google.url.endswith("/endpoints/openapi/chat/completions")
    assert signed(google).headers["Authorization"] == "Bearer ya29.fresh-1"
