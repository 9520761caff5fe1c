#!/usr/bin/env python3
"""What autockpt costs the real MPI programs of ../shared/real-programs between checkpoints
(issue 11): miniMD and PENNANT, each built plainly (the family's mpicxx) and with autockpt-mpicxx
(tests/real/kill_cycles.py builds them the same way), run alternately (plain, instrumented,
instrumented, plain, ...) with the ranks bound to a core each and no checkpoint taken, under
OpenMPI and MPICH; prints the medians of the wall times, their ratio and the spread, and the
ratio of the fastest runs (this VM adds up to 25% to a run now and then, in either build).  Every
instrumented run's compare lines must equal the plain run's: a run that differs fails the bench.

    python3 bench/mpi/apps.py --config build/bin/autockpt-config --work /tmp/apps   # ~5 min
    python3 bench/mpi/apps.py --config ... --work /tmp/apps --no-build --family mpich pennant

The programs run shorter than kill_cycles.py runs them (--minimd-steps, --pennant-cycles), so that
a round takes seconds; their start (MPI_Init, reading the input) is in every run's time.  Exit
status 0 when every run ran and agreed, 1 otherwise.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "../../tests/real")]
import kill_cycles as kc  # noqa: E402  (the builds, commands, inputs and compare lines)
from run import BIND  # noqa: E402  (a core each: this VM's two differ; MPICH binds nothing)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="autockpt-config of the build to measure")
    ap.add_argument("--work", required=True, help="directory for the builds and runs")
    ap.add_argument("--family", choices=["openmpi", "mpich"], action="append")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each build, alternating")
    ap.add_argument("--np", type=int, default=2, help="ranks")
    ap.add_argument("--minimd-steps", type=int, default=100)
    ap.add_argument("--pennant-cycles", type=int, default=200)
    ap.add_argument("--no-build", action="store_true", help="use the builds --work holds")
    ap.add_argument("programs", nargs="*", default=["minimd", "pennant"])
    args = ap.parse_args()
    for name in args.programs:
        if name not in ("minimd", "pennant"):
            raise SystemExit(f"apps.py: {name} is not an MPI program of the set (minimd, pennant)")
    kc.NP, kc.MINIMD_STEPS, kc.PENNANT_CYCLES = args.np, args.minimd_steps, args.pennant_cycles
    bindir = os.path.dirname(os.path.abspath(args.config))
    work = os.path.abspath(args.work)
    print(f"{args.np} ranks bound to a core each, 1 OpenMP thread, no checkpoint; miniMD "
          f"{args.minimd_steps} steps, PENNANT {args.pennant_cycles} cycles; medians of "
          f"{args.rounds} alternating runs (min-max)")
    print("| family | program | plain s | instrumented s | ratio | ratio of the fastest |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for fam in args.family or ["openmpi", "mpich"]:
        kc.FAMILY = fam
        plain, inst = os.path.join(work, "plain-" + fam), os.path.join(work, "inst-" + fam)
        if not args.no_build:
            subprocess.run([f"{kc.REAL}/build.sh", plain] + args.programs, check=True,
                           stdout=subprocess.DEVNULL,
                           env=dict(os.environ, CC="clang-19", CXX="clang++-19",
                                    MPICXX=f"mpicxx.{fam}"))
            subprocess.run([f"{kc.REAL}/build.sh", inst] + args.programs, check=True,
                           stdout=subprocess.DEVNULL,
                           env=dict(os.environ, CC=f"{bindir}/autockpt-cc",
                                    CXX=f"{bindir}/autockpt-c++",
                                    MPICXX=f"{bindir}/autockpt-mpicxx", AUTOCKPT_MPI_FAMILY=fam))
        for name in args.programs:
            d = os.path.join(work, "runs", f"{name}-{fam}")
            os.makedirs(d, exist_ok=True)
            kc.prepare(name, d, plain)
            base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
            base["OMP_NUM_THREADS"] = "1"
            envs = {"plain": base, "instr": dict(base, AUTOCKPT_DIR=os.path.join(d, "ckpt"))}
            builds = {"plain": plain, "instr": inst}
            times = {"plain": [], "instr": []}
            ref, why = None, ""
            for r in range(args.rounds):
                for b in (("plain", "instr") if r % 2 == 0 else ("instr", "plain")):
                    cmd = kc.command(name, builds[b], envs[b])
                    launcher = len(kc.launch(envs[b]))
                    cmd = cmd[:launcher] + BIND[fam] + cmd[launcher:]
                    t0 = time.monotonic()
                    p = subprocess.run(cmd, cwd=d, env=envs[b], capture_output=True, text=True)
                    times[b].append(time.monotonic() - t0)
                    lines = kc.compare_lines(name, p.stdout)
                    if p.returncode != 0:
                        why = why or f"{b} exit {p.returncode}: {p.stderr[-300:]}"
                    elif ref is None:
                        ref = lines
                    elif lines != ref:
                        why = why or f"{b} run {r + 1}'s compare lines differ from the first run's"
            if why:
                failed += 1
                print(f"| {fam} | {name} | FAIL: {why} | | | |")
                continue
            med = {b: statistics.median(t) for b, t in times.items()}
            cell = {b: f"{med[b]:.2f} ({min(t):.2f}-{max(t):.2f})" for b, t in times.items()}
            print(f"| {fam} | {name} | {cell['plain']} | {cell['instr']} | "
                  f"{med['instr'] / med['plain']:.3f} | "
                  f"{min(times['instr']) / min(times['plain']):.3f} |")
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
