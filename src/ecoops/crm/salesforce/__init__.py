"""Salesforce: a connection (OAuth web-server flow or JWT bearer) and an incremental sync into the CRM."""
