"""What operators need: health and readiness probes, Prometheus metrics, request ids in structured logs,
and backups (docs/running.md "Operating")."""
