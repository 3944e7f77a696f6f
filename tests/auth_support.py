"""Helpers shared by the auth tests: a provider with a given `auth:` block, building and signing its requests,
and a fake google-auth credentials object."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import requests

from litellm_sync import Client

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "SessionTokenSecretValue0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]


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


class FakeCredentials:
    """Stands in for google-auth credentials: counts refreshes; each one takes a little while."""

    def __init__(self, token: str | None = None, expires_in: float = 3600) -> None:
        self.token = token
        self.expiry = (
            dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=expires_in) if token else None
        )
        self.refreshes = 0
        self.quota_project_id = None

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        time.sleep(0.02)
        self.token = f"ya29.fresh-{self.refreshes}"
        self.expiry = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=1)


def google_client() -> Client:
    return provider_client({"mechanism": "google_oauth"})
