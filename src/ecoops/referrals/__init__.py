"""Referrals and deal registrations, both directions: submission, conflict checks, review, hand-off."""
