"""The Router's private parts: configuration loading, strategies, the Redis state and the file watcher."""
