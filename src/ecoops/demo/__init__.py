"""The demo workspace: a deterministic, realistic company (CRM history, partner program, partner lists)."""
