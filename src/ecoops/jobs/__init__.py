"""Durable jobs: long work (a mapping run, a private exchange, a large import) queued in the database in
the caller's transaction, run by the worker with a lease, progress and retries, and shown on the page."""
