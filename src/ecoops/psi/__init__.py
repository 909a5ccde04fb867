"""Private account mapping between two ecoops instances: connections set up by invitation, the
exchange between the two servers (engines/psi does the cryptography), and its results fed into
account mapping like any partner upload. See docs/private-mapping.md."""
