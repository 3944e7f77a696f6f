"""The batch runner's private parts: input and output files (records), worker threads (runner), display (progress)."""
