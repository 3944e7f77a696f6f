"""OpenTelemetry and Prometheus hooks, payload logging and a JSON log formatter (placeholder)."""
