"""CSV imports of CRM exports (Salesforce, HubSpot, or any file with a column mapping).

See docs/imports.md.
"""
