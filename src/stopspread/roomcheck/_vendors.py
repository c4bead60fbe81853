"""Network-card makers from the IEEE registry, and which of them mean "camera".

The registry is read from Debian's ``ieee-data`` package (``/usr/share/ieee-data/oui.csv``,
``mam.csv``, ``oui36.csv``: 24-, 28- and 36-bit prefixes; the longest match wins). Without the
package a check still runs; devices then show no maker.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stopspread.roomcheck._verdict import Reason, Weight

__all__ = ["IEEE_DATA", "VendorRegistry", "vendor_reasons"]

IEEE_DATA: Final = Path("/usr/share/ieee-data")
REGISTRY_FILES: Final = ("oui.csv", "mam.csv", "oui36.csv")

# Makers whose network cards go (nearly) only into cameras and video recorders.
CAMERA_MAKERS: Final = re.compile(
    r"hikvision|dahua|ezviz|uniview|axis communications|hanwha (techwin|vision)|"
    r"samsung techwin|foscam|reolink|vivotek|wyze|imou|amcrest|tenvis|hangzhou xiongmai|"
    r"shenzhen sricctv|idis|geovision|milesight",
    re.IGNORECASE,
)
# Makers of the cheap Wi-Fi modules inside clock, charger and bulb cameras (and plugs, bulbs…).
MODULE_MAKERS: Final = re.compile(
    r"espressif|beken|tuya|realtek semiconductor|shenzhen bilian|ingenic|anyka|"
    r"hui zhou gaoshengda|universal global scientific",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class VendorRegistry:
    """Prefix (upper-case hex, 6, 7 or 9 digits) → organisation name."""

    names: dict[str, str]

    @classmethod
    def load(cls, folder: Path = IEEE_DATA) -> VendorRegistry:
        names: dict[str, str] = {}
        for file_name in REGISTRY_FILES:
            path = folder / file_name
            if not path.is_file():
                continue
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                for row in csv.reader(handle):
                    if len(row) >= 3 and row[0] in ("MA-L", "MA-M", "MA-S"):
                        names[row[1].strip().upper()] = row[2].strip()
        return cls(names)

    def lookup(self, mac: str) -> str:
        digits = re.sub(r"[^0-9A-Fa-f]", "", mac).upper()
        for size in (9, 7, 6):
            name = self.names.get(digits[:size])
            if name:
                return name
        return ""


def vendor_reasons(mac: str, vendor: str) -> list[Reason]:
    digits = re.sub(r"[^0-9A-Fa-f]", "", mac)
    if len(digits) == 12 and int(digits[1], 16) & 0x2:
        return [Reason("mac-random", Weight.INFO)]  # locally administered: phones, laptops
    if not vendor:
        return []
    if CAMERA_MAKERS.search(vendor):
        return [Reason("vendor-camera", Weight.CAMERA, vendor)]
    if MODULE_MAKERS.search(vendor):
        return [Reason("vendor-module", Weight.HINT, vendor)]
    return [Reason("vendor", Weight.INFO, vendor)]
