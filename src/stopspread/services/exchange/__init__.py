"""Exchange paths: tx files, HMA-compatible lookups, the StopNCII-compatible hash feed.

Each is compatible with the shapes that python-threatexchange and Hasher-Matcher-Actioner
read (field names, paths, enum strings); none implies affiliation with their authors.
See docs/interop.md.
"""
