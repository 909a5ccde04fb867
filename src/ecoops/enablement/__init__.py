"""Enablement: the content library and its use, playbooks, joint account plans (docs/enablement.md)."""
