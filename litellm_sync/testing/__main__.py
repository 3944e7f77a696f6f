"""`python -m litellm_sync.testing`: run the fake provider in the foreground."""

import sys

from .server import main

sys.exit(main())
