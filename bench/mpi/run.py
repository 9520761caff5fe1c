#!/usr/bin/env python3
"""What the MPI layer costs between checkpoints (issue 11): 8-byte ping-pong latency and the rate
of 8-byte messages (pingpong.c, 2 ranks), and a halo-exchange kernel (halo.c, 2 ranks: Jacobi
sweeps of a band of 512 x 128 cells each, Isend/Irecv/Waitall of the edge rows every step, an
Allreduce every 10th), built plain (the family's mpicc) and with autockpt-mpicc, run alternately
(plain, instrumented, instrumented, plain, ...) under OpenMPI and MPICH; prints the medians and
their ratio next to the targets (latency and halo <= 1.01, rate <= 1.02).  halo.c computes, so
every build of it is compiled by the clang autockpt-mpicc uses (the family's mpicc with
OMPI_CC / MPICH_CC set): the ratio is autockpt's, not one compiler's against another's.  And
with -falign-loops=64: where its sweep's inner loop starts moved its time by 1.45x on this VM's
AMD EPYC (the same 18 instructions 16 bytes apart, either build), more than anything autockpt
adds; every build places it alike.

    python3 bench/mpi/run.py --config build/bin/autockpt-config            # about 1 minute
    python3 bench/mpi/run.py --config build/bin/autockpt-config --rounds 9 --family mpich
    python3 bench/mpi/run.py --config build/bin/autockpt-config --baseline OLD/bin/autockpt-config

--baseline adds a third build, instrumented by another autockpt (an earlier commit's), to the
same alternation: a change to the layer is measured against what it replaces, side by side.
Each build also runs layer.c: one rank (no launcher) on CPU 0, Isends and Irecvs to
MPI_PROC_NULL and Waitalls; its nanoseconds a call, and what a build adds to plain's, are the
layer's own cost without a second rank's noise (this VM's ping-pong moves between 0.27 and
0.84 us with where the host puts its two virtual CPUs).
--floor adds two plain builds with a minimal layer of floor.c linked in: forwarding each call to
PMPI_* alone, and that plus what any layer that drains and re-posts must do at least (a virtual
request holding a receive's arguments, per-peer counts, waits that test until done and stay safe
points): the least an interposition layer can cost, beside the targets.

Latency is wall time by nature: on a machine whose cores other processes take, a rank that waits
loses its core now and then, in either build; the medians of alternating rounds are the fair
figure, and the spread is printed beside them.  Exit status 0 when everything ran (targets met or
not), 1 when a run failed or the two builds disagreed on the checksum.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r"BENCH pingpong_us=([0-9.]+) rate_us=([0-9.]+) check=(\S+)")
LAYER = re.compile(r"BENCH layer_ns=([0-9.]+)")
HALO = re.compile(r"BENCH halo_ms=([0-9.]+) check=(\S+)")
# The family's compiler, and its launcher up to the number of ranks (bench/mpi/coord.py too).
FAMILIES = {"openmpi": ("mpicc.openmpi", ["mpirun.openmpi", "--allow-run-as-root",
                                          "--oversubscribe", "-np"]),
            "mpich": ("mpicc.mpich", ["mpiexec.mpich", "-np"])}
# The variable that makes the family's mpicc run another compiler.
CC_VARIABLE = {"openmpi": "OMPI_CC", "mpich": "MPICH_CC"}
# Each of the 2 ranks on a core of its own: this VM's cores differ (one runs 1.32 times slower,
# bench/run.py), and MPICH's launcher binds nothing by default, so its ranks moved between them
# from run to run (message rate 0.21 or 0.29 us in either build).
BIND = {"openmpi": ["--bind-to", "core"], "mpich": ["-bind-to", "core"]}
# How each build other than plain is named in the table's rows.
SUFFIX = {"instr": "", "baseline": ", baseline", "FORWARD": ", floor: forwarding",
          "TABLE": ", floor: virtual requests, counts, safe-point waits"}


def run_bench(cmd, pattern, what, **kw):
    """Runs one benchmark binary; its BENCH line's match, or None (said) when it failed."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    m = pattern.search(p.stdout)
    if p.returncode != 0 or not m:
        print(f"{what}: exit {p.returncode}: {p.stderr[-400:]}")
        return None
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="autockpt-config of the build to measure")
    ap.add_argument("--family", choices=sorted(FAMILIES), action="append")
    ap.add_argument("--baseline", help="autockpt-config of another build to compare with")
    ap.add_argument("--floor", action="store_true",
                    help="add plain builds with floor.c's minimal layers")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each build, alternating")
    ap.add_argument("--trips", type=int, default=20000)
    ap.add_argument("--windows", type=int, default=1000)
    ap.add_argument("--halo-steps", type=int, default=2000)
    args = ap.parse_args()
    bindir = os.path.dirname(os.path.abspath(args.config))
    have = subprocess.run([args.config, "--mpi-families"], capture_output=True,
                          text=True).stdout.split()
    families = [f for f in (args.family or sorted(FAMILIES)) if f in have and shutil.which(FAMILIES[f][0])]
    if not families:
        sys.exit("bench/mpi/run.py: this build has no MPI layer whose compiler is installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    clang = subprocess.run([args.config, "--cc"], capture_output=True, text=True,
                           check=True).stdout.strip()
    ok = True
    print(f"8-byte ping-pong and message rate, 2 ranks, {args.trips} round trips, "
          f"{args.windows} windows of 64; medians of {args.rounds} alternating runs (min-max)")
    print("| family | figure | plain | instrumented | ratio | target |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for fam in families:
            cc, launch = FAMILIES[fam]
            exe = {"plain": os.path.join(tmp, f"pp-{fam}.plain"),
                   "instr": os.path.join(tmp, f"pp-{fam}.instr")}
            wrappers = {"instr": os.path.join(bindir, "autockpt-mpicc")}
            if args.baseline:
                exe["baseline"] = os.path.join(tmp, f"pp-{fam}.baseline")
                wrappers["baseline"] = os.path.join(
                    os.path.dirname(os.path.abspath(args.baseline)), "autockpt-mpicc")
            src = os.path.join(HERE, "pingpong.c")
            layer_src = os.path.join(HERE, "layer.c")
            halo_src = os.path.join(HERE, "halo.c")
            align = {"": [], ".layer": [], ".halo": ["-falign-loops=64"]}
            clang_env = dict(env, **{CC_VARIABLE[fam]: clang})
            for s, suffix, cenv in ((src, "", env), (layer_src, ".layer", env),
                                    (halo_src, ".halo", clang_env)):
                subprocess.run([cc, "-O2", *align[suffix], s, "-o", exe["plain"] + suffix, "-lm"],
                               check=True, stderr=subprocess.DEVNULL, env=cenv)
            for floor in (["FORWARD", "TABLE"] if args.floor else []):
                exe[floor] = os.path.join(tmp, f"pp-{fam}.{floor}")
                for s, suffix, cenv in ((src, "", env), (layer_src, ".layer", env),
                                        (halo_src, ".halo", clang_env)):
                    subprocess.run([cc, "-O2", *align[suffix], f"-D{floor}", s,
                                    os.path.join(HERE, "floor.c"), "-o", exe[floor] + suffix,
                                    "-lm"], check=True,
                                   stderr=subprocess.DEVNULL, env=cenv)
            for build, wrapper in wrappers.items():
                for s, suffix in ((src, ""), (layer_src, ".layer"), (halo_src, ".halo")):
                    subprocess.run([wrapper, "-O2", *align[suffix], s, "-o", exe[build] + suffix,
                                    "-lm"],
                                   check=True, env=dict(env, AUTOCKPT_MPI_FAMILY=fam),
                                   stderr=subprocess.DEVNULL)
            two_ranks = launch[:1] + BIND[fam] + launch[1:] + ["2"]
            layer = {b: [] for b in exe}
            halo = {b: [] for b in exe}
            halo_checks = set()
            got = {b: [] for b in exe}
            checks = set()
            for r in range(args.rounds):
                order = list(exe)
                for build in (order if r % 2 == 0 else order[::-1]):
                    run_env = dict(env, AUTOCKPT_DIR=os.path.join(tmp, "ckpt"))
                    m = run_bench(two_ranks + [exe[build], str(args.trips), str(args.windows)], LINE,
                                  f"{fam} {build}", cwd=tmp, env=run_env)
                    if not m:
                        ok = False
                        continue
                    got[build].append((float(m.group(1)), float(m.group(2))))
                    checks.add(m.group(3))
                    m = run_bench(["taskset", "-c", "0", exe[build] + ".layer", "100000"], LAYER,
                                  f"{fam} {build} layer.c", cwd=tmp, env=run_env)
                    if not m:
                        ok = False
                        continue
                    layer[build].append(float(m.group(1)))
                    m = run_bench(two_ranks + [exe[build] + ".halo", str(args.halo_steps)], HALO,
                                  f"{fam} {build} halo.c", cwd=tmp, env=run_env)
                    if not m:
                        ok = False
                        continue
                    halo[build].append(float(m.group(1)))
                    halo_checks.add(m.group(2))
            if len(checks) > 1 or len(halo_checks) > 1:
                print(f"{fam}: the builds' checksums differ: {sorted(checks)} {sorted(halo_checks)}")
                ok = False
            if not all(got.values()):
                continue
            figures = [("ping-pong latency", "us/round trip", 1.01, 3,
                        {b: [x[0] for x in v] for b, v in got.items()}),
                       ("message rate", "us/message", 1.02, 3,
                        {b: [x[1] for x in v] for b, v in got.items()})]
            if all(halo.values()):
                figures.append(("halo exchange", "ms/step", 1.01, 4, halo))
            for name, unit, target, digits, runs in figures:
                pl = runs["plain"]
                for build in [b for b in exe if b != "plain"]:
                    ins = runs[build]
                    ratio = statistics.median(ins) / statistics.median(pl)
                    print(f"| {fam} | {name}{SUFFIX[build]} ({unit}) | "
                          f"{statistics.median(pl):.{digits}f} ({min(pl):.{digits - 1}f}-"
                          f"{max(pl):.{digits - 1}f}) | {statistics.median(ins):.{digits}f} "
                          f"({min(ins):.{digits - 1}f}-{max(ins):.{digits - 1}f}) | "
                          f"{ratio:.{digits - 1}f} | <= {target} "
                          f"{'met' if ratio <= target else 'NOT met'} |")
            if all(layer.values()):
                pl = statistics.median(layer["plain"])
                for build in [b for b in exe if b != "plain"]:
                    ins = statistics.median(layer[build])
                    label = "layer.c" + SUFFIX[build]
                    print(f"| {fam} | {label} (ns/call, 1 rank) | {pl:.2f} "
                          f"({min(layer['plain']):.2f}-{max(layer['plain']):.2f}) | {ins:.2f} "
                          f"({min(layer[build]):.2f}-{max(layer[build]):.2f}) | {ins / pl:.2f} "
                          f"(+{ins - pl:.1f} ns) | - |")
            sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
