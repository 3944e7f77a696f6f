"""The auth seam: spec errors with their paths, the YAML of docs/auth.md, no secret in any repr or log, and
the optional packages (botocore, google-auth) never imported with the library."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from auth_support import MESSAGES, SECRET, TOKEN, FakeCredentials, build, provider_client, signed

from litellm_sync import Client
from litellm_sync._engine.auth_aws import AwsCredentials, AwsSigV4Auth
from litellm_sync._engine.auth_google import GoogleOAuthAuth, TokenSource
from litellm_sync.exceptions import ConfigurationError, SpecError

# -- spec errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"mechanism": "kerberos"},
            "providers.signed.auth.mechanism: unknown mechanism 'kerberos' "
            "(known: aws_sigv4, google_oauth, token_exchange)",
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
        SpecError, match=r"providers\.vertexish\.auth\.service: Unknown option of mechanism google_oauth"
    ):
        Client(providers=spec)


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


def test_nothing_secret_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    aws = provider_client({"mechanism": "aws_sigv4", "service": "bedrock"})
    prepared = build(
        aws,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        aws_region_name="us-east-1",
    )
    assert signed(prepared).headers["X-Amz-Security-Token"] == TOKEN
    google = provider_client({"mechanism": "google_oauth"})
    fake = FakeCredentials()
    assert signed(build(google, vertex_credentials=fake)).headers["Authorization"] == "Bearer ya29.fresh-1"
    with pytest.raises(ConfigurationError):
        build(aws, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SECRET + "\r", aws_region_name="x")
    for text in (caplog.text, *(str(r.args) for r in caplog.records)):
        assert SECRET not in text and TOKEN not in text and "ya29" not in text
