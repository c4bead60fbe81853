"""StopSpread: stop intimate images shared without consent from spreading.

The pure library lives in :mod:`stopspread.hashing` (and, later,
:mod:`stopspread.matching`); nothing here touches a database, the network or
the environment at import time.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
