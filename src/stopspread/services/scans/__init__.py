"""Scans: sources, the queue, running one scan, matching downloads, sightings."""
