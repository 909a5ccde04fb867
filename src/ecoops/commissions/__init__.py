"""Commissions: plans, accruals from credited revenue, the append-only ledger, statements and payouts."""
