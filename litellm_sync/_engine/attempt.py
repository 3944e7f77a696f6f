"""One HTTP attempt of a call: started only while the call's total_timeout allows, bounded by the attempt's
timeout and the call's deadline, sent through the transport (or a mock reply), and any status but 2xx raised as
the error the provider's error table maps it to."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import APIStatusError, Timeout
from ..limits import Limits
from .redact import get_logger
from .request import PreparedRequest
from .transport import Reply, Transport

if TYPE_CHECKING:
    from .._spec import ProviderSpec

log = get_logger()


def send_attempt(
    transport: Transport,
    limits: Limits,
    provider: ProviderSpec,
    request: PreparedRequest,
    model: str,
    timeout: Any,
    auth: Any,
    call_deadline: float | None = None,
    total: float = 0.0,
    mock: Callable[[], Reply] | None = None,
) -> Reply:
    """One attempt, bounded by timeout and by the call's monotonic deadline (total_timeout) if given: the reply
    of a 2xx status, else the mapped error raised (a redirect is not followed: it says where it points)."""
    started = time.perf_counter()
    deadline, final = call_deadline, True
    if call_deadline is not None:
        now = time.monotonic()
        if now >= call_deadline:
            raise Timeout(
                f"the call's total_timeout ({total:g} s) passed before another attempt could start; raise "
                "total_timeout= or lower timeout= so that retries fit",
                provider=provider.name, model=model, retryable=False,
            )
        if not isinstance(timeout, tuple) and now + timeout < call_deadline:
            deadline, final = now + timeout, False
    http = mock() if mock is not None else transport.send(
        request, timeout, provider=provider.name, deadline=deadline, auth=auth, final=final, model=model
    )
    status = http.status
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s -> %d in %.1f ms",
            request.method,
            request.url.split("?", 1)[0],
            status,
            (time.perf_counter() - started) * 1000,
        )
    if status >= 300 or status < 200:
        raw = http.read(limits)
        if status < 400:
            # Redirects are not followed (a POST must not silently become a GET elsewhere): say where to.
            raise APIStatusError(
                f"HTTP {status}: the endpoint redirects to {http.headers.get('location', '(no Location)')}; "
                "point api_base (or the provider's base_url) at the final address",
                provider=provider.name,
                model=model,
                status_code=status,
            )
        error = provider.errors.from_response(status, http.headers, raw, model, request.secrets)
        error.model = model
        raise error
    return http
