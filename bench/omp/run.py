#!/usr/bin/env python3
"""What OpenMP costs: prints one table of figures measured side by side in one run, each next to
its target from issue 10 (docs/design.md O1-O10).

    python3 bench/omp/run.py               # about 2 minutes on 2 cores
    python3 bench/omp/run.py --rounds 7 --samples 40

1. Overhead without checkpoints (CPU time, and instructions under callgrind, which the load
   does not change): the STREAM triad and the Jacobi stencil of bench/kernels, serial
   and, built with -fopenmp, as OpenMP `parallel for` loops with 2 threads, plain and
   instrumented, alternating in each round.  Target: the instrumented/plain CPU-time ratio of an
   OpenMP kernel is within 0.01 of its serial kernel's.
2. Vectorization: the loops clang vectorizes in each kernel (-Rpass=loop-vectorize), plain and
   instrumented.  Target: the instrumented build vectorizes every loop the plain one does.
3. Stop latency: loop_omp.c, a run that is one `parallel for schedule(dynamic)` with 2 threads,
   checkpointed every 20 ms (AUTOCKPT_INTERVAL).  At AUTOCKPT_VERBOSE=2 the runtime says how long
   after each request every thread had reached a safe point.  Target: median <= 1 ms.

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
from common import BENCH_LINE, FLAGS, ROOT, config, env_for as base_env, have_callgrind, \
    kernel_instructions, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = os.path.join(ROOT, "bench", "kernels")
STOPPED = re.compile(r"all (\d+) threads at safe points (\d+) us after the request")
VECTORIZED = re.compile(r"^(.*?):(\d+):\d+: remark: vectorized loop", re.M)
# The OpenMP kernels are the serial ones built with -fopenmp (their pragmas are ignored without).
SOURCES = {"triad": os.path.join(KERNELS, "triad_mem.c"),
           "triad_omp": os.path.join(KERNELS, "triad_mem.c"),
           "stencil": os.path.join(KERNELS, "stencil.c"),
           "stencil_omp": os.path.join(KERNELS, "stencil.c"),
           "loop_omp": os.path.join(HERE, "loop_omp.c")}
PAIRS = (("triad", "triad_omp"), ("stencil", "stencil_omp"))
LATENCY_TARGET_US = 1000


def build(cfg, work):
    """{(name, mode): exe} and {(name, mode): set of vectorized source lines}."""
    cc, plugin = config(cfg, "--cc", "omp/run.py"), config(cfg, "--plugin", "omp/run.py")
    ldflags = config(cfg, "--ldflags", "omp/run.py").split()
    exes, vec = {}, {}
    for name, src in SOURCES.items():
        omp = ["-fopenmp"] if name.endswith("_omp") else []
        for mode in ("plain", "instr"):
            exe = os.path.join(work, f"{name}.{mode}")
            cmd = [cc] + FLAGS + omp + ["-Rpass=loop-vectorize", src, "-o", exe, "-lm"]
            if mode == "instr":
                cmd += [f"-fpass-plugin={plugin}"] + ldflags
            r = sh(cmd)
            if r.returncode != 0:
                sys.exit(f"omp/run.py: building {name} ({mode}) failed:\n{' '.join(cmd)}\n{r.stderr}")
            exes[name, mode] = exe
            vec[name, mode] = {int(m.group(2)) for m in VECTORIZED.finditer(r.stderr)
                               if os.path.basename(m.group(1)) == os.path.basename(src)}
    return exes, vec


def env_for(work, **extra):
    return base_env(work, OMP_NUM_THREADS="2", OMP_PROC_BIND="false", **extra)


def overhead(exes, work, rounds, errors):
    """CPU seconds per (kernel, mode) over the rounds; the order flips every round."""
    names = [k for pair in PAIRS for k in pair]
    cpu = {(k, m): [] for k in names for m in ("plain", "instr")}
    sums = {}
    for rnd in range(rounds):
        for i, k in enumerate(names):
            modes = ("plain", "instr") if (rnd + i) % 2 == 0 else ("instr", "plain")
            for m in modes:
                shutil.rmtree(os.path.join(work, "ckpt"), ignore_errors=True)
                r = sh([exes[k, m], "0.5"], env=env_for(work), timeout=600)
                hit = BENCH_LINE.search(r.stdout)
                if r.returncode != 0 or not hit:
                    errors.append(f"{k} ({m}): exit {r.returncode}: {r.stderr[-300:]}")
                    continue
                cpu[k, m].append(float(hit.group(3)))
                sums.setdefault(k.replace("_omp", ""), set()).add(hit.group(4))
        print(f"  round {rnd + 1}/{rounds} of the kernels", file=sys.stderr)
    for k, s in sums.items():
        if len(s) > 1:
            errors.append(f"WRONG CHECKSUM for {k} (serial, OpenMP, plain, instrumented): {sorted(s)}")
    return cpu


def instructions(exes, work, errors):
    """Instructions executed under callgrind in the kernels (serial) or their outlined loops
    (OpenMP): exact whatever the machine's load.  {} without valgrind."""
    if not have_callgrind():
        return {}
    counts = {}
    for k in [k for pair in PAIRS for k in pair]:
        for m in ("plain", "instr"):
            size = "0.05" if k.startswith("triad") else "0.2"
            # OpenMP: the outlined loops only; the fork and the waits at the region's end spin
            # (in libomp or the runtime) for as long as the other thread takes: not exact.
            functions = "bench_kernel*omp_outlined*" if k.endswith("_omp") else "bench_kernel*"
            n, why = kernel_instructions([exes[k, m], "0.5", size], work, env_for(work), functions)
            if why:
                errors.append(f"callgrind {k} ({m}): {why}")
            else:
                counts[k, m] = n
    return counts


def latency(exe, work, samples, errors):
    """Median and max stop latency (us) over the timer's checkpoints, and their count."""
    items, lat = 50000, []
    while len(lat) < samples and items < 50000 * 64:
        shutil.rmtree(os.path.join(work, "ckpt"), ignore_errors=True)
        env = env_for(work, AUTOCKPT_INTERVAL="0.02", AUTOCKPT_VERBOSE="2")
        r = sh([exe, str(items), "400"], env=env, timeout=600)
        if r.returncode != 0:
            errors.append(f"loop_omp: exit {r.returncode}: {r.stderr[-300:]}")
            return None
        lat += [int(m.group(2)) for m in STOPPED.finditer(r.stderr)][1:]  # the first makes the directory
        items *= 2
    if not lat:
        errors.append("loop_omp: no checkpoint said when its threads stopped")
        return None
    return statistics.median(lat), max(lat), len(lat)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=os.path.join(ROOT, "build", "bin", "autockpt-config"))
    ap.add_argument("--rounds", type=int, default=5, help="interleaved kernel rounds (default 5)")
    ap.add_argument("--samples", type=int, default=30, help="checkpoints measured (default 30)")
    ap.add_argument("--workdir", help="default: a new directory in /dev/shm (tmpfs)")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    args = ap.parse_args()
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = args.workdir or tempfile.mkdtemp(prefix="autockpt-omp-bench-", dir=base)
    errors = []
    try:
        print("building", file=sys.stderr)
        exes, vec = build(args.config, work)
        cpu = overhead(exes, work, args.rounds, errors)
        ir = {} if args.no_callgrind else instructions(exes, work, errors)
        lat = latency(exes["loop_omp", "instr"], work, args.samples, errors)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nautockpt OpenMP benchmark  {time.strftime('%Y-%m-%d %H:%M')}  "
          f"load {os.getloadavg()[0]:.1f}  {os.cpu_count()} cores  OMP_NUM_THREADS=2\n")
    print(f"{'overhead (CPU time)':<28}{'plain s':>9}{'instr s':>9}{'ratio':>8}{'Ir ratio':>10}"
          f"{'vectorized loops plain/instr':>31}")
    ratio = {}
    for k in [k for pair in PAIRS for k in pair]:
        p, i = cpu[k, "plain"], cpu[k, "instr"]
        if not (p and i):
            continue
        ratio[k] = statistics.median(i) / statistics.median(p)
        vp, vi = vec[k, "plain"], vec[k, "instr"]
        v = f"{len(vp)}/{len(vp & vi)}" + ("" if vp <= vi else "  LOST")
        label = k.replace("_omp", ", OpenMP 2 threads") if k.endswith("_omp") else k + ", serial"
        irr = (f"{ir[k, 'instr'] / ir[k, 'plain']:10.3f}" if (k, "plain") in ir and (k, "instr") in ir
               else f"{'':10}")
        print(f"{label:<28}{statistics.median(p):9.3f}{statistics.median(i):9.3f}{ratio[k]:8.3f}{irr}{v:>31}")
    for serial, omp in PAIRS:
        if serial in ratio and omp in ratio:
            d = ratio[omp] - ratio[serial]
            irs = ""
            if all((k, m) in ir for k in (serial, omp) for m in ("plain", "instr")):
                irs = (f"  (instructions: {ir[omp, 'instr'] / ir[omp, 'plain'] - ir[serial, 'instr'] / ir[serial, 'plain']:+.3f})")
            print(f"{omp + ' vs ' + serial:<28}{'':18}{d:+8.3f}   target <= +0.01 "
                  f"{'met' if d <= 0.01 else 'NOT MET'}{irs}")
    lost = [k for k in SOURCES if not vec[k, "plain"] <= vec[k, "instr"]]
    print(f"vectorization: {'every loop vectorized plain is vectorized instrumented  met' if not lost else 'loops not vectorized when instrumented in ' + ', '.join(lost) + '  NOT MET'}")
    if lat:
        med, worst, n = lat
        print(f"\nstop latency, dynamic parallel for, 2 threads: median {med:.0f} us, max {worst:.0f} "
              f"us over {n} checkpoints; target <= {LATENCY_TARGET_US} us  "
              f"{'met' if med <= LATENCY_TARGET_US else 'NOT MET'}")
    for e in errors:
        print("ERROR:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
