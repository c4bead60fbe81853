"""The neighbour (ARP) table: which addresses on the link answered, and their MAC addresses.

Linux keeps it in ``/proc/net/arp``; a check reads it after its sweep (the sweep's connection
attempts make the kernel ask every address for its MAC). Tests hand a fixture file in the same
format instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["PROC_ARP", "Neighbour", "read_neighbours"]

PROC_ARP: Final = Path("/proc/net/arp")
MAC: Final = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
INCOMPLETE: Final = "00:00:00:00:00:00"


@dataclass(frozen=True, slots=True)
class Neighbour:
    address: str
    mac: str


def read_neighbours(path: Path = PROC_ARP) -> list[Neighbour]:
    """Complete entries of an ``/proc/net/arp``-style table (none if it cannot be read)."""
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) >= 4:
            mac = fields[3].lower()
            if MAC.match(mac) and mac != INCOMPLETE:
                found.append(Neighbour(fields[0], mac))
    return found
