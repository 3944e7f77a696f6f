"""Review regressions: every LiteLLM exception name given as mock_response ends as a litellm_sync error."""

from __future__ import annotations

import pytest

import litellm_sync
from litellm_sync._engine.keywords import mock_value
from litellm_sync.exceptions import ERROR_CLASSES, ConfigurationError, LiteLLMSyncError


@pytest.mark.parametrize("name", sorted(ERROR_CLASSES))
def test_every_error_name_is_an_error_or_a_clear_refusal(name: str) -> None:
    try:
        value = mock_value(f"litellm.{name}", "gpt-4o-mini")
    except ConfigurationError as refusal:  # a class that needs more than a message says how to pass one
        assert f"litellm_sync.{name}(" in str(refusal)
    else:
        assert isinstance(value, ERROR_CLASSES[name])


def test_a_response_too_large_mock_by_name_is_a_configuration_error_not_a_type_error() -> None:
    with pytest.raises(LiteLLMSyncError) as caught:
        litellm_sync.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                mock_response="litellm.ResponseTooLargeError")  # fmt: skip
    assert isinstance(caught.value, ConfigurationError) and "pass an instance" in str(caught.value)
