"""A single-file Django chat app: POST /chat (JSON), GET /stream?q=... (Server-Sent Events through
`StreamingHttpResponse(sse(stream))`), GET / (a page that shows tokens as they arrive).

    OPENAI_API_KEY=... python examples/django_app/app.py runserver
    LITELLM_SYNC_FAKE=1 python examples/django_app/app.py runserver      # against a local fake provider

Configuration: LITELLM_SYNC_MODEL (default openai/gpt-4o-mini), LITELLM_SYNC_API_BASE and
LITELLM_SYNC_API_KEY (optional; default: the provider's own variables). Errors come back as JSON
`{"error": {"type": ..., "message": ...}}`: 400 for bad input, 429 when the provider rate-limits,
502 for other provider failures, 500 when the server itself is misconfigured (no key).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

try:
    import litellm_sync
except ImportError:  # running from a source checkout without `pip install .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import litellm_sync
from litellm_sync.web import error_payload, http_status, retry_after_header, sse

if not settings.configured:
    settings.configure(
        DEBUG=os.environ.get("DJANGO_DEBUG") == "1",
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret"),
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(","),
        INSTALLED_APPS=[],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        DATABASES={},
    )
    django.setup()

DEFAULT_MODEL = "openai/gpt-4o-mini"
MAX_PROMPT_CHARS = 20_000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>litellm_sync chat (Django)</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<form id="f"><input id="q" size="50" placeholder="Ask something" autofocus> <button>Send</button></form>
<pre id="out" style="white-space: pre-wrap"></pre>
<script>
document.getElementById("f").onsubmit = function (e) {
  e.preventDefault();
  var out = document.getElementById("out");
  out.textContent = "";
  var source = new EventSource("stream?q=" + encodeURIComponent(document.getElementById("q").value));
  source.onmessage = function (event) {
    if (event.data === "[DONE]") { source.close(); return; }
    var data = JSON.parse(event.data);
    if (data.error) { out.textContent += "\\n[error: " + data.error.message + "]"; return; }
    (data.choices || []).forEach(function (c) { if (c.delta && c.delta.content) out.textContent += c.delta.content; });
  };
  source.onerror = function () { source.close(); };
};
</script>
</body></html>
"""

# Where calls go; `configure()` replaces it (tests point it at a fake provider).
CHAT: dict[str, Any] = {}


def configure(
    client: litellm_sync.Client | None = None,
    model: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> None:
    """Set the client, model and connection options; unset ones come from LITELLM_SYNC_* variables."""
    CHAT.clear()
    CHAT.update(
        client=client or litellm_sync.get_default_client(),
        model=model or os.environ.get("LITELLM_SYNC_MODEL") or DEFAULT_MODEL,
        options={
            "api_base": api_base or os.environ.get("LITELLM_SYNC_API_BASE") or None,
            "api_key": api_key or os.environ.get("LITELLM_SYNC_API_KEY") or None,
        },
    )


def call(messages: list[dict[str, Any]], stream: bool) -> Any:
    """One completion with the configured client, model and options."""
    if not CHAT:
        configure()
    return CHAT["client"].completion(CHAT["model"], messages, stream=stream, **CHAT["options"])


def error_response(exc: Exception) -> JsonResponse:
    """A JSON error; the exception's text is already redacted (no API key in it)."""
    response = JsonResponse(error_payload(exc), status=http_status(exc))
    retry_after = retry_after_header(exc)
    if retry_after is not None:
        response["Retry-After"] = retry_after
    return response


def bad_input(message: str) -> JsonResponse:
    """A 400 for a request this app cannot use."""
    return JsonResponse({"error": {"type": "invalid_request", "message": message}}, status=400)


def api_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn litellm_sync exceptions raised by a view into JSON error responses."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except litellm_sync.LiteLLMSyncError as exc:
            return error_response(exc)

    return wrapper


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


@require_POST
@api_errors
def chat(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        data = None
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_PROMPT_CHARS:
        return bad_input('send JSON {"message": "..."} with a non-empty message')
    response = call([litellm_sync.user_message(message)], stream=False)
    usage = response.usage.to_dict() if response.usage is not None else None
    cost = None if response.cost is None else str(response.cost)
    return JsonResponse({"content": response.content, "model": response.model, "usage": usage, "cost": cost})


@require_GET
@api_errors
def stream(request: HttpRequest) -> HttpResponse:
    question = request.GET.get("q", "")
    if not question.strip() or len(question) > MAX_PROMPT_CHARS:
        return bad_input("pass a non-empty q= query parameter")
    # Errors before the first byte raise here and become JSON errors; later ones arrive as an SSE `error`
    # event. When the client goes away the server closes the response, which closes the upstream stream.
    chat_stream = call([litellm_sync.user_message(question)], stream=True)
    response = StreamingHttpResponse(sse(chat_stream), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


urlpatterns = [path("", index), path("chat", chat), path("stream", stream)]


def main(argv: list[str]) -> None:
    """Django's command line (runserver, check, ...); with LITELLM_SYNC_FAKE=1, a local fake provider."""
    if os.environ.get("LITELLM_SYNC_FAKE") == "1" and not os.environ.get("LITELLM_SYNC_API_BASE"):
        from litellm_sync.testing import FakeProviderServer

        # Started before runserver's autoreloader forks its child, which inherits these variables.
        server = FakeProviderServer().start()
        os.environ["LITELLM_SYNC_API_BASE"] = server.url
        os.environ.setdefault("LITELLM_SYNC_API_KEY", "sk-fake")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main(sys.argv)
