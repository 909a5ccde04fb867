"""Goals: targets per month or quarter for partner revenue, pipeline, referrals and partners per stage."""
