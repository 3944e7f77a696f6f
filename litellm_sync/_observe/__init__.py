"""Private parts of the cache, budgets and observability: the call seam, records, logging context."""
