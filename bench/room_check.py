"""Room check: time to a verdict and packets sent, for a /24 with 30 devices and a quiet one.

Run by hand, not in CI::

    .venv/bin/python bench/room_check.py          # writes bench/results/room_check.txt too

Both networks are simulated on a random /24 of 127.0.0.0/8 (``tests/roomcheck/simnet.py``);
nothing is sent anywhere else. The "busy" network has 30 devices (the test home's ten kinds,
three of each: RTSP, ONVIF, P2P clock and web-UI cameras, cameras known by their MAC maker,
printers, TVs, NAS, phones, routers); the quiet one has none. Each is checked with the
production plan (250 packets a second, 0.6 s connect and 1.5 s read timeouts, 1.5 s discovery
wait) except that discovery goes to each of the 254 addresses by unicast (loopback has no
multicast; on a real network it is 3 datagrams), and again at the tests' rate (5,000 a second).

On loopback every address without a device refuses a connection at once, so the sweep treats
all 254 as "there" and knocks on every port of every address: the packet counts are the worst
case. On a real quiet network absent addresses do not answer, get only the 2 sweep ports, and
the check is bounded by the 0.6 s connect timeout over 64 connections at a time instead.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.roomcheck.simnet import crowd, running, sim_plan  # noqa: E402

from stopspread.roomcheck import Plan, Scope, Verdict, run_room_check  # noqa: E402

TARGET_S = 60.0


def production_like(plan: Plan) -> Plan:
    """The simulation's targets with the production rate, timeouts and waits."""
    real = Plan()
    return replace(
        plan,
        rate_per_s=real.rate_per_s,
        max_open=real.max_open,
        connect_timeout_s=real.connect_timeout_s,
        read_timeout_s=real.read_timeout_s,
        discovery_wait_s=real.discovery_wait_s,
    )


def measure(name: str, devices: int, rate_label: str, fast: bool, out: list[str]) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(lambda b: crowd(b, devices), Path(tmp)) as net,
    ):
        plan = sim_plan(net) if fast else production_like(sim_plan(net))
        started = time.perf_counter()
        check = run_room_check(Scope.of(net.cidr), plan)
        seconds = time.perf_counter() - started
        expected = {net.address(d): d.kind for d in net.devices}
        wrong = [
            d.address
            for d in check.devices
            if (d.verdict is Verdict.LIKELY) != (expected.get(d.address) == "camera")
        ]
        missed = len(expected) - len({d.address for d in check.devices} & set(expected))
    counts = check.counts()
    line = (
        f"{name:<22} {rate_label:<10} {seconds:7.1f} s  {check.packets:6d} packets"
        f"  devices {len(check.devices):2d} (likely {counts['likely']}, check {counts['check']},"
        f" unlikely {counts['unlikely']})  wrong {len(wrong)} missed {missed}"
        f"  {'OK' if seconds <= TARGET_S else 'OVER'} (target {TARGET_S:.0f} s)"
    )
    print(line, flush=True)
    out.append(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=30)
    args = parser.parse_args()
    out = [
        f"# bench/room_check.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"# {platform.python_implementation()} {platform.python_version()},"
        f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
    ]
    for line in out:
        print(line)
    for rate_label, fast in (("250/s", False), ("5000/s", True)):
        measure(f"/24, {args.devices} devices", args.devices, rate_label, fast, out)
        measure("/24, quiet", 0, rate_label, fast, out)
    results = ROOT / "bench" / "results" / "room_check.txt"
    results.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
