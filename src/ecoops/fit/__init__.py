"""Partner fit: an ideal partner profile of weighted criteria, scoring current and prospective partners."""
