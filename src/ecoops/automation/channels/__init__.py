"""Channels: how one delivery reaches Slack, an inbox or a webhook receiver.

Each channel is a function `send(outgoing, settings)` that returns on success and raises
`RetryableError` (try again later: timeouts, 429, 5xx) or `PermanentError` (a retry cannot help:
unknown channel, refused address, 4xx). Channels know nothing of the database; the worker does.
"""
