"""Room check: find cameras streaming from a room over its own network. A pure library.

No database, no web framework. It talks only to the private subnet it is given
(:class:`Scope`), at a bounded rate, with anonymous read-only probes: it identifies devices,
it never logs in, tries a password, exploits anything or opens a stream. See
``docs/room-check.md``.

::

    scope = scope_from_interfaces()            # this computer's own private subnet
    check = run_room_check(scope)               # or: await check_room(scope, Plan(...))
    for device in check.devices:
        print(device.address, device.verdict, [r.code for r in device.reasons])
"""

from __future__ import annotations

from stopspread.roomcheck._interface import interface_scopes, scope_from_interfaces
from stopspread.roomcheck._neighbours import Neighbour, read_neighbours
from stopspread.roomcheck._scan import KST, Device, Plan, RoomCheck, check_room, run_room_check
from stopspread.roomcheck._scope import LINK_LOCAL_GROUPS, Scope
from stopspread.roomcheck._vendors import VendorRegistry
from stopspread.roomcheck._verdict import Reason, Verdict, Weight, decide
from stopspread.roomcheck._wire import Exchange, Wire

__all__ = [
    "KST",
    "LINK_LOCAL_GROUPS",
    "Device",
    "Exchange",
    "Neighbour",
    "Plan",
    "Reason",
    "RoomCheck",
    "Scope",
    "VendorRegistry",
    "Verdict",
    "Weight",
    "Wire",
    "check_room",
    "decide",
    "interface_scopes",
    "read_neighbours",
    "run_room_check",
    "scope_from_interfaces",
]
