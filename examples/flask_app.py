"""A small Flask chat app: POST /chat (JSON), GET /stream?q=... (Server-Sent Events), GET / (a page that
shows tokens as they arrive).

    LITELLM_SYNC_MODEL=openai/gpt-4o-mini OPENAI_API_KEY=... python examples/flask_app.py
    LITELLM_SYNC_FAKE=1 python examples/flask_app.py          # against a local fake provider
    flask --app examples/flask_app.py run                     # the same through the flask command

Configuration: LITELLM_SYNC_MODEL (default openai/gpt-4o-mini), LITELLM_SYNC_API_BASE and LITELLM_SYNC_API_KEY
(optional; default: the provider's own variables, such as OPENAI_API_KEY). Errors come back as JSON
`{"error": {"type": ..., "message": ...}}`: 400 for bad input, 429 when the provider rate-limits,
502 for other provider failures, 500 when the server itself is misconfigured (no key).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

try:
    import litellm_sync
except ImportError:  # running from a source checkout without `pip install .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import litellm_sync
from litellm_sync.web import error_payload, http_status, retry_after_header, sse

DEFAULT_MODEL = "openai/gpt-4o-mini"
MAX_PROMPT_CHARS = 20_000
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>litellm_sync chat</title></head>
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


def create_app(
    client: litellm_sync.Client | None = None,
    model: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> Flask:
    """Build the app; arguments default to the shared client and the LITELLM_SYNC_* variables."""
    app = Flask(__name__)
    app.config["CHAT_CLIENT"] = client or litellm_sync.get_default_client()
    app.config["CHAT_MODEL"] = model or os.environ.get("LITELLM_SYNC_MODEL") or DEFAULT_MODEL
    app.config["CHAT_OPTIONS"] = {
        "api_base": api_base or os.environ.get("LITELLM_SYNC_API_BASE") or None,
        "api_key": api_key or os.environ.get("LITELLM_SYNC_API_KEY") or None,
    }

    def call(messages: list[dict[str, Any]], stream: bool) -> Any:
        client: litellm_sync.Client = app.config["CHAT_CLIENT"]
        return client.completion(app.config["CHAT_MODEL"], messages, stream=stream, **app.config["CHAT_OPTIONS"])

    @app.errorhandler(litellm_sync.LiteLLMSyncError)
    def on_error(exc: litellm_sync.LiteLLMSyncError) -> tuple[Response, int]:
        response = jsonify(error_payload(exc))
        retry_after = retry_after_header(exc)
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response, http_status(exc)

    @app.get("/")
    def index() -> Response:
        return Response(PAGE, content_type="text/html; charset=utf-8")

    @app.post("/chat")
    def chat() -> Any:
        data = request.get_json(silent=True)
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, str) or not message.strip() or len(message) > MAX_PROMPT_CHARS:
            return bad_input("send JSON {\"message\": \"...\"} with a non-empty message")
        response = call([litellm_sync.user_message(message)], stream=False)
        usage = response.usage.to_dict() if response.usage is not None else None
        cost = None if response.cost is None else str(response.cost)
        return jsonify({"content": response.content, "model": response.model, "usage": usage, "cost": cost})

    @app.get("/stream")
    def stream() -> Any:
        question = request.args.get("q", "")
        if not question.strip() or len(question) > MAX_PROMPT_CHARS:
            return bad_input("pass a non-empty q= query parameter")
        # Errors before the first byte (bad key, 429, ...) raise here and become JSON errors; errors after
        # it arrive as an SSE `error` event. Closing the response (client gone) closes the upstream stream.
        chat_stream = call([litellm_sync.user_message(question)], stream=True)
        return Response(sse(chat_stream), content_type="text/event-stream", headers=SSE_HEADERS)

    return app


def bad_input(message: str) -> tuple[Response, int]:
    """A 400 for a request this app cannot use."""
    return jsonify({"error": {"type": "invalid_request", "message": message}}), 400


def main() -> None:
    """Serve on 127.0.0.1:5000 (PORT overrides); with LITELLM_SYNC_FAKE=1, against a local fake provider."""
    port = int(os.environ.get("PORT", "5000"))
    if os.environ.get("LITELLM_SYNC_FAKE") == "1" and not os.environ.get("LITELLM_SYNC_API_BASE"):
        from litellm_sync.testing import FakeProviderServer

        with FakeProviderServer() as server:
            create_app(api_base=server.url, api_key="sk-fake").run(port=port, threaded=True)
        return
    create_app().run(port=port, threaded=True)


if __name__ == "__main__":
    main()
