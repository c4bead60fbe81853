"""Reasons, and the verdict they add up to.

Each thing a check learns about a device is a :class:`Reason` with a :class:`Weight`:
``camera`` (something only cameras and video recorders do: RTSP, ONVIF, a P2P camera
platform's LAN search, a camera maker's network card, a camera's web page), ``hint`` (seen on
cameras and on other things: a Wi-Fi module maker, a video recorder's port), ``ordinary`` (the
device says what else it is: a printer, a TV, a router) or ``info``. One ``camera`` reason makes
the verdict :attr:`Verdict.LIKELY`; else one ``hint`` makes it :attr:`Verdict.CHECK`; else
:attr:`Verdict.UNLIKELY`. An ``ordinary`` reason never outweighs a camera one: a camera that
also answers as a media server is still a camera.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Reason", "Verdict", "Weight", "decide"]


class Weight(enum.StrEnum):
    CAMERA = "camera"
    HINT = "hint"
    ORDINARY = "ordinary"
    INFO = "info"


class Verdict(enum.StrEnum):
    LIKELY = "likely"  # 카메라일 가능성이 높아요
    CHECK = "check"  # 확인이 필요해요
    UNLIKELY = "unlikely"  # 카메라가 아닌 것 같아요


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: ``code`` names the words (see ``_words.py``); ``detail`` fills them in."""

    code: str
    weight: Weight
    detail: str = ""


def decide(reasons: Iterable[Reason]) -> Verdict:
    weights = {r.weight for r in reasons}
    if Weight.CAMERA in weights:
        return Verdict.LIKELY
    if Weight.HINT in weights:
        return Verdict.CHECK
    return Verdict.UNLIKELY
