"""Use cases: every one once, every query; cli and web are thin adapters over them."""
