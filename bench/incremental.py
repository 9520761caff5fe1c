#!/usr/bin/env python3
"""Incremental checkpoints (AUTOCKPT_INCREMENTAL, docs/design.md R24): bytes written per
checkpoint when a program changes a few percent of a large heap between checkpoints, against
the full image, side by side in one run.

bench/programs/incremental.c keeps MIB MiB of heap (default 1024) and, each step, writes PCT
percent of its pages (default 5), spread over the whole heap, then asks for a checkpoint
(SIGUSR1 with AUTOCKPT_ON_SIGNAL=continue).  Two runs of the same instrumented build:

    incremental   AUTOCKPT_INCREMENTAL=yes: the first image is full, each later one holds the
                  pages of one step (STEPS of them)
    full          AUTOCKPT_INCREMENTAL=no: every image is full

For each checkpoint: the image's bytes (the file; ratio to the first, full image of the same run:
target <= 0.10, issue 13), the write time, and two parts of the stop (the runtime's own figures,
AUTOCKPT_VERBOSE=3): the heap's plan (the scan that finds and re-protects the written pages,
incremental only) and the copy-on-write copy (fork).  The whole stop is not shown: a checkpoint
asked for while the previous one is still being written waits for it (R21), and this program asks
at once.  The incremental run is then restarted from its newest image (read on top of the
whole chain) and must end with the same checksum as the full run.

    python3 bench/incremental.py [--mib 1024] [--pct 5] [--steps 3] [--workdir DIR]
run.py --images runs it too.  Uses only the Python 3 standard library.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
SOURCE = os.path.join(BENCH, "programs", "incremental.c")
TARGET = 0.10
PLANNED = re.compile(r"checkpoint (\d+): heap planned in ([0-9.]+) ms")
COPY = re.compile(r"checkpoint (\d+): the program stopped [0-9.]+ ms \(the copy ([0-9.]+) ms\)")
LINE = re.compile(r"checkpoint (\d+) \(.*\) written to .*?: ([0-9.]+ [KMG]?i?B)(, incremental on "
                  r"\d+[^(]*|, full)? \(.* in (\d+) ms; the program stopped ([0-9.]+) ms")


def build(tc, work):
    path = os.path.join(work, "incremental.instr")
    r = subprocess.run(tc.command([SOURCE], path, False, True), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("incremental.py: build failed:\n" + r.stderr)
    return path


def image_sizes(ckdir):
    sizes = {}
    for path in glob.glob(os.path.join(ckdir, "gen-*", "rank-00000.ackpt")):
        sizes[int(re.search(r"gen-(\d+)", path).group(1))] = os.path.getsize(path)
    return sizes


def run_mode(prog, work, mode, mib, pct, steps, errors):
    ckdir = os.path.join(work, "ckpt-incremental-" + mode)
    shutil.rmtree(ckdir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=ckdir, AUTOCKPT_VERBOSE="3", AUTOCKPT_ON_SIGNAL="continue",
               AUTOCKPT_INCREMENTAL="yes" if mode == "incremental" else "no",
               AUTOCKPT_KEEP="100",
               AUTOCKPT_RESTART="never")
    n = steps
    r = subprocess.run([prog, str(mib), str(pct), str(n)], capture_output=True, text=True,
                       env=env, timeout=1200)
    done = re.search(r"^done (\d+)$", r.stdout, re.M)
    if r.returncode != 0 or not done:
        errors.append(f"{mode} run failed: exit {r.returncode}, {r.stderr[-400:]!r}")
        return None
    rows = []
    sizes = image_sizes(ckdir)
    planned = {int(g): float(ms) for g, ms in PLANNED.findall(r.stderr)}
    copied = {int(g): float(ms) for g, ms in COPY.findall(r.stderr)}
    for gen, _, kind, write_ms, stop_ms in LINE.findall(r.stderr):
        rows.append({"gen": int(gen), "bytes": sizes.get(int(gen)),
                     "kind": "incremental" if kind.startswith(", incremental") else "full",
                     "write_ms": int(write_ms), "stop_ms": float(stop_ms),
                     "plan_ms": planned.get(int(gen)), "copy_ms": copied.get(int(gen))})
    res = {"rows": rows, "done": done.group(1), "ckdir": ckdir}
    if mode == "incremental":  # the newest image read on top of the chain ends the same
        env.pop("AUTOCKPT_RESTART")
        subprocess.run(["rm", "-f", os.path.join(ckdir, "COMPLETED")])
        again = subprocess.run([prog, str(mib), str(pct), str(n)], capture_output=True,
                               text=True, env=env, timeout=1200)
        m = re.search(r"^done (\d+)$", again.stdout, re.M)
        chain = re.search(r"resuming from checkpoint \d+ .*read on top of generations? ([\d, ]+)",
                          again.stderr)
        res["restart"] = {"done": m.group(1) if m else None,
                          "chain": chain.group(1) if chain else None}
    return res


def measure(prog, work, mib, pct, steps, errors, say=print):
    res = {"mib": mib, "pct": pct}
    for mode in ("incremental", "full"):
        say(f"incremental.py: {mode} run ({mib} MiB, {pct}% a step)")
        res[mode] = run_mode(prog, work, mode, mib, pct, steps, errors)
        if res[mode]:
            shutil.rmtree(res[mode]["ckdir"], ignore_errors=True)
    inc, full = res["incremental"], res["full"]
    if inc and full and inc["done"] != full["done"]:
        errors.append(f"the runs ended differently: {inc['done']} and {full['done']}")
    if inc and inc.get("restart") and inc["restart"]["done"] != inc["done"]:
        errors.append(f"the restart from the incremental chain ended with "
                      f"{inc['restart']['done']}, the run with {inc['done']}")
    return res


def render(res):
    out = [f"Incremental checkpoints: {res['mib']} MiB heap, {res['pct']}% of its pages written "
           f"between checkpoints (bench/incremental.py; target: an incremental checkpoint writes "
           f"<= {TARGET:.2f} of the full image)", "",
           "| run | checkpoint | kind | bytes | / full image | write | stop: plan / copy |",
           "|---|---|---|---|---|---|---|"]
    ratios = []
    for mode in ("incremental", "full"):
        r = res.get(mode)
        if not r or not r["rows"]:
            out.append(f"| {mode} | failed | | | | | |")
            continue
        first = r["rows"][0]["bytes"] or 1
        for row in r["rows"]:
            ratio = (row["bytes"] or 0) / first
            if mode == "incremental" and row["kind"] == "incremental":
                ratios.append(ratio)
            out.append(f"| {mode} | {row['gen']} | {row['kind']} | "
                       f"{(row['bytes'] or 0) / 2**20:.1f} MiB | {ratio:.3f} | "
                       f"{row['write_ms']} ms | "
                       + (f"{row['plan_ms']:.1f}" if row['plan_ms'] is not None else "-")
                       + " / " + (f"{row['copy_ms']:.1f}" if row['copy_ms'] is not None else "-")
                       + " ms |")
    if ratios:
        worst = max(ratios)
        out.append("")
        out.append(f"bytes per incremental checkpoint / full image: {min(ratios):.3f}-{worst:.3f}"
                   f" (target <= {TARGET:.2f}: {'met' if worst <= TARGET else 'NOT met'})")
    inc = res.get("incremental")
    if inc and inc.get("restart"):
        rs = inc["restart"]
        out.append(f"restart from the newest incremental image (read on top of {rs['chain']}): "
                   f"ended with {rs['done']}, {'the same' if rs['done'] == inc['done'] else 'DIFFERENT'}"
                   f" as the uninterrupted run")
    return "\n".join(out)


def main():
    sys.path.insert(0, BENCH)
    import run as runbench  # the Toolchain
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=os.path.join(ROOT, "build", "bin", "autockpt-config"))
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--pct", type=float, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--workdir", help="where the images go (default: a new directory in $TMPDIR)")
    a = ap.parse_args()
    tc = runbench.Toolchain(a.config)
    work = a.workdir or tempfile.mkdtemp(prefix="autockpt-incr-")
    os.makedirs(work, exist_ok=True)
    errors = []
    try:
        res = measure(build(tc, work), work, a.mib, a.pct, a.steps, errors)
        print(render(res))
    finally:
        if a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    for e in errors:
        print("ERROR: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
