"""`python -m litellm_sync`: the `litellm-sync` command line."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
