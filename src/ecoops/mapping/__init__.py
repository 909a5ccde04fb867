"""Account mapping with partners: which of our accounts a partner also has, and why we think so."""
