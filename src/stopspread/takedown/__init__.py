"""Takedown: the host registry, notices in the host's language, request statuses, follow-up.

Pure library code (no database, no web): services wire it to storage, the CLI and the pages.
"""
