"""Test helpers: `mock_completion` (a provider's own reply registered with `responses`) and a fake LLM
provider HTTP server for tests, examples and benchmarks.

`mock_completion(rsps, "anthropic/claude-sonnet-4-5", text="hi", stream=True)` registers, at the URL the
call will use, the reply in the provider's own wire format, written from its spec (text, tool calls, usage,
a stream, or an error status); `completion(..., mock_response="hi")` sends nothing at all. See
docs/testing.md. `mock_embedding(rsps, "cohere/embed-v4.0")` does the same for embeddings (docs/embeddings.md).

`FakeProviderServer` listens on a real socket (127.0.0.1 by default), keeps HTTP/1.1 connections alive and
speaks several wire formats, chosen only by the request path:

* ``POST .../chat/completions`` - Chat Completions style (SSE with ``data: [DONE]`` when ``"stream": true``).
* ``POST .../messages`` - Messages style (SSE with ``event:`` lines when ``"stream": true``).
* ``POST .../models/<model>:generateContent`` and ``:streamGenerateContent`` (SSE with ``?alt=sse``,
  otherwise a streamed JSON array).
* ``POST .../v2/chat`` - v2 chat style (SSE with ``event:`` lines when ``"stream": true``).
* ``POST .../api/chat`` - native chat style (NDJSON stream unless ``"stream": false``).
* Bedrock ``/model/<id>/converse(-stream)``, Vertex ``:rawPredict``, ``/responses`` and watsonx.ai
  ``/ml/v1/text/chat(_stream)`` (Chat Completions' shape with ``model_id``; no ``[DONE]``).
* ``GET .../models`` and ``GET .../api/tags`` - model listings.
* ``POST .../embeddings`` - OpenAI-style embeddings: each input's vector is ``[characters, words]``.

By default the reply text is ``"Echo: " + <last user text>``; prompt tokens are the whitespace-separated words
of all the request's message texts, system text included (at least 1); completion tokens are the number of
streamed tokens (the text split on single spaces).
Tests script exact behaviour with `FakeProviderServer.enqueue` and inspect `FakeProviderServer.requests`.
A request header ``x-fake-chunks: N`` makes the default reply exactly N tokens of ``"x"``.

Run ``python -m litellm_sync.testing [--port N]`` to serve in the foreground; it prints
``FAKE_PROVIDER_URL=http://127.0.0.1:N`` on one line.
"""

from .mock import make_answer, mock_completion, tool_call
from .mock_operations import hashed_vector, mock_embedding
from .replies import MockAnswer, MockSpecError, MockToolCall
from .server import FakeProviderServer, main
from .wire import DEFAULT_MODELS, RecordedRequest, Reply

__all__ = [
    "DEFAULT_MODELS",
    "FakeProviderServer",
    "MockAnswer",
    "MockSpecError",
    "MockToolCall",
    "RecordedRequest",
    "Reply",
    "hashed_vector",
    "main",
    "make_answer",
    "mock_completion",
    "mock_embedding",
    "tool_call",
]
