#!/usr/bin/env python3
"""How long a checkpoint stops the program, and what periodic checkpoints cost it: the 256 MiB
stencil of ../shared/peer-programs (bench/peers/stencil.c, `4096 ITERS`), side by side in
one run, interleaved by round:

    plain          clang -O2, no autockpt
    instrumented   autockpt, no checkpoint
    sync           autockpt, a checkpoint every --interval s, AUTOCKPT_ASYNC=no (the program
                   waits for the whole durable write)
    async          the same with AUTOCKPT_ASYNC=yes (a copy-on-write copy writes it)

The stop of each checkpoint is the runtime's own figure ("the program stopped X ms": from the
first thread's safe point to the moment it goes on), the run time is the stencil's own iter_s
(wall) and cpu_s (its process's CPU time: the copies the kernel makes on the program's writes
while a writer lives are in it, the writer's own work is not).  The cost of one checkpoint is
(run time with checkpoints - run time without) / checkpoints taken; the table turns it into the
cost of a checkpoint every 10 s (DESIGN.md section 4: <= 1%, DMTCP +5%..+56%; stop <= 18 ms, a
tenth of CRIU's 178 ms dump).

    python3 bench/stop.py [--quick] [--rounds N] [--iters N] [--interval S]
run.py runs it too (its checkpoint part).  Uses only the Python 3 standard library.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
SOURCE = os.path.join(BENCH, "peers", "stencil.c")
STOP_TARGET_MS = 18.0
PERIODIC_TARGET = 0.01
CRIU_STOP_MS = 178.0
STOP_LINE = re.compile(r"checkpoint \d+ \(.*\) written to .* in (\d+) ms; the program stopped "
                       r"([0-9.]+) ms")
MODES = ["plain", "instrumented", "sync", "async"]


def build(tc, work):
    """Returns {"plain": path, "instr": path}."""
    out = {}
    for mode in ("plain", "instr"):
        path = os.path.join(work, "stencil_peer." + mode)
        r = subprocess.run(tc.command([SOURCE], path, False, mode == "instr"),
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("stop.py: build failed:\n" + r.stderr)
        out[mode] = path
    return out


def run_once(built, work, mode, iters, interval, errors):
    ckdir = os.path.join(work, "ckpt-stencil")
    shutil.rmtree(ckdir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=ckdir, AUTOCKPT_VERBOSE="1", AUTOCKPT_KEEP="1")
    if mode in ("sync", "async"):
        env.update(AUTOCKPT_INTERVAL=str(interval), AUTOCKPT_ASYNC="yes" if mode == "async" else "no")
    else:
        env.update(AUTOCKPT_INTERVAL="0")
    prog = built["plain" if mode == "plain" else "instr"]
    r = subprocess.run([prog, "4096", str(iters), "0"], capture_output=True, text=True, env=env,
                       timeout=600)
    shutil.rmtree(ckdir, ignore_errors=True)
    m = re.search(r"iter_s=([0-9.]+) cpu_s=([0-9.]+)", r.stdout)
    check = re.search(r"^CHECKSUM .*$", r.stdout, re.M)
    if r.returncode != 0 or not m or not check:
        errors.append(f"stencil ({mode}) failed: exit {r.returncode}, {r.stderr[-300:]!r}")
        return None
    stops = [(float(s), float(w)) for w, s in STOP_LINE.findall(r.stderr)]
    return {"wall": float(m.group(1)), "cpu": float(m.group(2)), "stops": stops,
            "checksum": check.group(0)}


def measure(built, work, rounds, iters, interval, errors, say=print):
    res = {m: [] for m in MODES}
    for rnd in range(rounds):
        order = MODES[rnd % len(MODES):] + MODES[:rnd % len(MODES)]
        for mode in order:
            t = run_once(built, work, mode, iters, interval, errors)
            if t:
                res[mode].append(t)
                say(f"  round {rnd + 1} {mode:<12} wall {t['wall']:6.2f} s  cpu {t['cpu']:6.2f} s  "
                    f"{len(t['stops'])} checkpoints, stops " +
                    " ".join(f"{s:.1f}" for s, _ in t["stops"]) + " ms")
    sums = {t["checksum"] for m in MODES for t in res[m]}
    if len(sums) > 1:
        errors.append("stencil: the checksums differ between runs: " + " / ".join(sorted(sums)))
    return res


def render(res, iters, interval):
    med = statistics.median
    out = []
    w = out.append
    w(f"stop and periodic cost: stencil 4096^2 (256 MiB), {iters} sweeps, a checkpoint every "
      f"{interval:g} s; medians over {len(res['plain'])} interleaved rounds")
    base = res["instrumented"]
    if not base or not res["plain"]:
        w("  not measured (see errors)")
        return "\n".join(out)
    bw, bc = med([t["wall"] for t in base]), med([t["cpu"] for t in base])
    w(f"  {'mode':<13} {'run s':>6} {'cpu s':>6} {'ckpts':>5} {'stop ms med':>11} {'max':>7} "
      f"{'write ms':>8}  {'cost/ckpt wall':>14} {'cpu':>6}  {'every 10 s':>10}")
    for mode in MODES:
        runs = res[mode]
        if not runs:
            w(f"  {mode:<13} failed")
            continue
        wall, cpu = med([t["wall"] for t in runs]), med([t["cpu"] for t in runs])
        stops = [s for t in runs for s, _ in t["stops"]]
        writes = [x for t in runs for _, x in t["stops"]]
        n = med([len(t["stops"]) for t in runs])
        line = f"  {mode:<13} {wall:6.2f} {cpu:6.2f} {n:5.1f}"
        if stops:
            cw = (wall - bw) / n if n else 0
            cc = (cpu - bc) / n if n else 0
            line += (f" {med(stops):11.1f} {max(stops):7.1f} {med(writes):8.0f}  {cw * 1e3:11.0f} ms "
                     f"{cc * 1e3:4.0f} ms  {100 * cw / 10:6.1f}% wall")
        elif mode == "instrumented":
            line += f"  (instrumented / plain: {wall / med([t['wall'] for t in res['plain']]):.2f} wall)"
        w(line)
    for mode in ("sync", "async"):
        stops = [s for t in res[mode] for s, _ in t["stops"]]
        if stops:
            ok = med(stops) <= STOP_TARGET_MS
            w(f"  {mode}: stopped {med(stops):.1f} ms per checkpoint (median), target <= "
              f"{STOP_TARGET_MS:.0f} ms (CRIU's dump {CRIU_STOP_MS:.0f} ms): "
              f"{'ok' if ok else 'MISSED'}")
    return "\n".join(out)


def main():
    sys.path.insert(0, BENCH)
    import run as benchrun
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 150 sweeps")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--iters", type=int)
    ap.add_argument("--interval", type=float, help="seconds between checkpoints (default 2)")
    ap.add_argument("--config", default=os.path.join(ROOT, "build", "bin", "autockpt-config"))
    ap.add_argument("--workdir")
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 3)
    iters = a.iters or (150 if a.quick else 300)
    interval = a.interval or 2.0
    work = a.workdir or tempfile.mkdtemp(prefix="autockpt-stop-")
    errors = []
    try:
        built = build(benchrun.Toolchain(a.config), work)
        res = measure(built, work, rounds, iters, interval, errors,
                      say=lambda s: print(s, file=sys.stderr, flush=True))
        print(render(res, iters, interval))
        for e in errors:
            print("ERROR: " + e)
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
