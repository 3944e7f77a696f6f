"""google_oauth: one token refresh for many threads, refresh before expiry, a forked child's own token
source, a service-account key refreshed through the (mocked) token endpoint, and clear errors."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from auth_support import FakeCredentials, build, google_client, signed

from litellm_sync._engine.auth_google import GoogleOAuthAuth, TokenSource
from litellm_sync.exceptions import AuthenticationError, ConfigurationError


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
