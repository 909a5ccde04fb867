"""Metrics: stored records fed to the engine, the figures for an actor, and their pages, API and CLI."""
