"""Support workers: centers, accounts, sign-in, admin powers, review."""
