"""Getting items removed: notices drafted and sent, re-checks, re-uploads, the numbers."""
