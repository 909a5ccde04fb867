"""Automation: rules that turn domain events into messages, nurture and digests, and their delivery."""
