"""The generic engine (private): templates, paths, messages, parameters, requests, readers, errors, framing,
stream rules and the transport. It knows no provider by name; the spec in `litellm_sync._spec` drives it."""
