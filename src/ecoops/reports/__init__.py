"""Reporting cadence: scheduled report packs for leadership and finance, and QBR packs per partner."""
