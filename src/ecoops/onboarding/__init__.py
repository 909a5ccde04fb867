"""Onboarding: public partner applications and their review, program agreements and their acceptance,
and each program's onboarding checklist, whose items gate moves through the partner life cycle."""
