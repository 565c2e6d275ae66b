"""Tests of the PostgreSQL production target: end to end, parity, roles, personal data, secrets."""
