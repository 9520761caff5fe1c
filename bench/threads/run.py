#!/usr/bin/env python3
"""What threads cost: prints one table of figures measured side by side in one run, each next to
its target from issue 9 (docs/design.md H1-H9).

    python3 bench/threads/run.py            # about 1 minute on 2 cores
    python3 bench/threads/run.py --rounds 9 --samples 60

1. Overhead without checkpoints: the stencil kernel of bench/kernels/stencil.c on one thread and
   on two (stencil_mt.c: bands of rows, a pthread barrier after every sweep), plain and
   instrumented, alternating in each round.  The instrumented/plain ratio of CPU time with two
   threads should be no worse than with one.  Beside it, the ratio of instructions executed in
   the kernels under callgrind (exact, whatever the machine's load), when valgrind is installed.
2. Stop latency: spin.c runs T threads in loop code (T = 2, 4, 8; the heap and the work do not
   change with T) and takes a checkpoint every 20 ms (AUTOCKPT_INTERVAL).  At
   AUTOCKPT_VERBOSE=2 the runtime says, for each checkpoint, how long after the request every
   thread had reached a safe point, and how long the checkpoint took from there to the commit.
   Target: median stop latency <= 1 ms with 4 threads.
3. Cost per thread: the slope of the median checkpoint time over T (least squares).  The images
   go to /dev/shm (tmpfs, where fsync costs nothing), so the disk's noise does not hide a cost
   of tenths of a millisecond.  Target: <= 0.1 ms per thread.

Exit status 0 when everything ran (met or not), 1 when a program failed or a checksum differed.
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import BENCH_LINE, FLAGS, ROOT, config, env_for, have_callgrind, \
    kernel_instructions, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL = os.path.join(ROOT, "bench", "kernels", "stencil.c")
STOPPED = re.compile(r"all (\d+) threads at safe points (\d+) us after the request")
WRITTEN = re.compile(r"checkpoint \d+ holds (\d+) threads besides main; written in (\d+) us")
LATENCY_TARGET_US = 1000
PER_THREAD_TARGET_US = 100


def build(cfg, work):
    cc, plugin = config(cfg, "--cc", "threads/run.py"), config(cfg, "--plugin", "threads/run.py")
    ldflags = config(cfg, "--ldflags", "threads/run.py").split()
    out = {}
    for name, src in (("stencil", KERNEL), ("stencil_mt", os.path.join(HERE, "stencil_mt.c")),
                      ("spin", os.path.join(HERE, "spin.c"))):
        for mode in ("plain", "instr"):
            exe = os.path.join(work, f"{name}.{mode}")
            cmd = [cc] + FLAGS + [src, "-o", exe, "-lpthread"]
            cmd += [f"-fpass-plugin={plugin}"] + ldflags if mode == "instr" else ["-lm"]
            r = sh(cmd)
            if r.returncode != 0:
                sys.exit(f"threads/run.py: building {name} ({mode}) failed:\n{' '.join(cmd)}\n{r.stderr}")
            out[name, mode] = exe
    return out


def overhead(exes, work, rounds, errors):
    """CPU seconds per (kernel, mode) over the rounds; the order flips every round."""
    cpu = {(k, m): [] for k in ("stencil", "stencil_mt") for m in ("plain", "instr")}
    sums = {k: set() for k in ("stencil", "stencil_mt")}
    for rnd in range(rounds):
        for i, (k, args) in enumerate((("stencil", []), ("stencil_mt", ["1", "1", "2"]))):
            modes = ("plain", "instr") if (rnd + i) % 2 == 0 else ("instr", "plain")
            for m in modes:
                shutil.rmtree(os.path.join(work, "ckpt"), ignore_errors=True)
                r = sh([exes[k, m]] + args, env=env_for(work), timeout=300)
                hit = BENCH_LINE.search(r.stdout)
                if r.returncode != 0 or not hit:
                    errors.append(f"{k} ({m}): exit {r.returncode}: {r.stderr[-300:]}")
                    continue
                cpu[k, m].append(float(hit.group(3)))
                sums[k].add(hit.group(4))
        print(f"  round {rnd + 1}/{rounds} of the kernels", file=sys.stderr)
    sums["stencil_mt"] |= sums["stencil"]  # the same grid, the same sweeps: the same checksum
    if len(sums["stencil_mt"]) > 1:
        errors.append(f"WRONG CHECKSUM: {sorted(sums['stencil_mt'])}")
    return cpu


def instructions(exes, work, errors):
    """Instructions executed in bench_kernel* under callgrind (exact, whatever the load), per
    (kernel, mode); {} without valgrind."""
    if not have_callgrind():
        return {}
    counts = {}
    for k, args in (("stencil", ["0.2", "0.3"]), ("stencil_mt", ["0.2", "0.3", "2"])):
        for m in ("plain", "instr"):
            n, why = kernel_instructions([exes[k, m]] + args, work, env_for(work))
            if why:
                errors.append(f"callgrind {k} ({m}): {why}")
            else:
                counts[k, m] = n
    return counts


def checkpoints(exe, work, threads, samples, errors):
    """Medians of (stop latency us, checkpoint us) over the run's checkpoints, and their counts."""
    steps = 1500
    lat, wrote = [], []
    while len(wrote) < samples:
        shutil.rmtree(os.path.join(work, "ckpt"), ignore_errors=True)
        env = env_for(work, AUTOCKPT_INTERVAL="0.02", AUTOCKPT_VERBOSE="2", AUTOCKPT_KEEP="1")
        r = sh([exe, str(threads), str(steps)], env=env, timeout=300)
        if r.returncode != 0:
            errors.append(f"spin {threads}: exit {r.returncode}: {r.stderr[-300:]}")
            return None
        # Only checkpoints taken while every thread runs; the first one of a run also makes
        # the checkpoint directory.
        full = [int(m.group(2)) for m in STOPPED.finditer(r.stderr) if int(m.group(1)) == threads]
        done = [int(m.group(2)) for m in WRITTEN.finditer(r.stderr) if int(m.group(1)) == threads - 1]
        lat += full[1:]
        wrote += done[1:]
        steps *= 2
    return statistics.median(lat), statistics.median(wrote), len(lat), max(lat)


def slope(xs, ys):
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=os.path.join(ROOT, "build", "bin", "autockpt-config"))
    ap.add_argument("--rounds", type=int, default=5, help="interleaved kernel rounds (default 5)")
    ap.add_argument("--samples", type=int, default=30,
                    help="checkpoints measured per thread count (default 30)")
    ap.add_argument("--workdir", help="default: a new directory in /dev/shm (tmpfs)")
    args = ap.parse_args()
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = args.workdir or tempfile.mkdtemp(prefix="autockpt-threads-bench-", dir=base)
    errors = []
    try:
        print("building", file=sys.stderr)
        exes = build(args.config, work)
        cpu = overhead(exes, work, args.rounds, errors)
        ir = instructions(exes, work, errors)
        ck = {t: checkpoints(exes["spin", "instr"], work, t, args.samples, errors) for t in (2, 4, 8)}
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nautockpt threads benchmark  {time.strftime('%Y-%m-%d %H:%M')}  "
          f"load {os.getloadavg()[0]:.1f}  {os.cpu_count()} cores\n")
    ratio = {}
    print(f"{'overhead (CPU time)':<28}{'plain s':>9}{'instr s':>9}{'ratio':>8}{'Ir ratio':>10}")
    for k, label in (("stencil", "stencil, 1 thread"), ("stencil_mt", "stencil, 2 threads")):
        p, i = cpu[k, "plain"], cpu[k, "instr"]
        if p and i:
            ratio[k] = statistics.median(i) / statistics.median(p)
            irr = f"{ir[k, 'instr'] / ir[k, 'plain']:10.3f}" if (k, "plain") in ir and (k, "instr") in ir else ""
            print(f"{label:<28}{statistics.median(p):9.3f}{statistics.median(i):9.3f}{ratio[k]:8.3f}{irr}")
    if len(ratio) == 2:
        ok = ratio["stencil_mt"] <= ratio["stencil"] + 0.01
        print(f"{'2 threads vs 1':<28}{'':18}{ratio['stencil_mt'] - ratio['stencil']:+8.3f}"
              f"   target <= +0.01 (no worse than one thread)  {'met' if ok else 'NOT MET'}")
    print(f"\n{'checkpoints (tmpfs)':<28}{'stop med us':>12}{'stop max us':>12}{'ckpt med us':>12}{'n':>5}")
    pts = []
    for t, v in ck.items():
        if v:
            lat, wrote, n, worst = v
            pts.append((t, wrote))
            print(f"{f'{t} threads':<28}{lat:12.0f}{worst:12.0f}{wrote:12.0f}{n:5d}")
    if ck.get(4):
        ok = ck[4][0] <= LATENCY_TARGET_US
        print(f"stop latency, 4 threads: median {ck[4][0]:.0f} us, target <= {LATENCY_TARGET_US} us  "
              f"{'met' if ok else 'NOT MET'}")
    if len(pts) >= 2:
        s = slope([p[0] for p in pts], [p[1] for p in pts])
        ok = s <= PER_THREAD_TARGET_US
        print(f"checkpoint cost per thread: {s:+.0f} us, target <= {PER_THREAD_TARGET_US} us  "
              f"{'met' if ok else 'NOT MET'}")
    for e in errors:
        print("ERROR:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
