#!/usr/bin/env python3
"""What a checkpoint of an MPI job costs beside writing the images (issue 11: "request to all
ranks stopped, plus the commit, 8 ranks on one node: <= 10 ms beyond writing the images").

coord.c is built with autockpt-mpicc and run with 2, 4 and 8 ranks under OpenMPI and MPICH; rank
0 asks for a checkpoint every few steps (SIGUSR1 to itself, AUTOCKPT_ON_SIGNAL=continue), and
with AUTOCKPT_VERBOSE=2 it logs each checkpoint's phases (docs/design.md M13):

  cut      rank 0 saw the request -> stop sent to all (the protocol: intent, reports, targets,
           every rank at its target)
  stop     -> rank 0 stopped at a safe point, its frames saved, the messages in flight to it
           drained
  prepare  -> every rank stopped and drained, the generation agreed on and its directory made
           (rank 0's mkdir and one collective, M20)
  write    -> every rank's image durable (its write and fsync, and the wait for the slowest)
  commit   -> the manifest written and made durable, every rank told, the generation before
           last taken out of use (rank 0 removes its MANIFEST, each rank its own image, M20)

coordination = cut + stop + prepare + commit: what the job pays beside writing the images.
Each row prints the medians over the checkpoints of its runs, in milliseconds.

    python3 bench/mpi/coord.py --config build/bin/autockpt-config        # about a minute
    python3 bench/mpi/coord.py --config build/bin/autockpt-config --family mpich --ranks 8

The figures are wall time: where ranks outnumber cores, a rank that waits for another gives up
its core and the protocol's rounds wait for the scheduler; the 2-rank row on 2 cores is the
figure without oversubscription.  Exit status 0 when every run completed with its checkpoints
(targets met or not), 1 otherwise.
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
sys.path.insert(0, HERE)
from run import FAMILIES  # noqa: E402

CUT = re.compile(r"rank 0: checkpoint round \d+: rank 0 saw the request and sent stop to all in "
                 r"([0-9.]+) ms; stopped and drained itself ([0-9.]+) ms later")
COMMIT = re.compile(r"rank 0: checkpoint \d+: prepared in ([0-9.]+) ms; images durable on every "
                    r"rank ([0-9.]+) ms after the write began \(rank 0's own write ([0-9.]+) ms\); "
                    r"committed ([0-9.]+) ms after that \(the manifest ([0-9.]+) ms, every rank "
                    r"told ([0-9.]+) ms, old generations pruned ([0-9.]+) ms\)")
TARGET_MS = 10.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="autockpt-config of the build to measure")
    ap.add_argument("--family", choices=sorted(FAMILIES), action="append")
    ap.add_argument("--ranks", default="2,4,8", help="comma-separated job sizes")
    ap.add_argument("--runs", type=int, default=1, help="runs of each job size")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--every", type=int, default=20, help="steps between checkpoints")
    ap.add_argument("--doubles", type=int, default=16384, help="each rank's array")
    args = ap.parse_args()
    bindir = os.path.dirname(os.path.abspath(args.config))
    have = subprocess.run([args.config, "--mpi-families"], capture_output=True,
                          text=True).stdout.split()
    families = [f for f in (args.family or sorted(FAMILIES))
                if f in have and shutil.which(FAMILIES[f][0])]
    if not families:
        sys.exit("bench/mpi/coord.py: this build has no MPI layer whose compiler is installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    settings = {"AUTOCKPT_VERBOSE": "2", "AUTOCKPT_ON_SIGNAL": "continue",
                "AUTOCKPT_RESTART": "never"}
    ok = True
    print(f"coord.c: {args.steps} steps, a checkpoint every {args.every}, {args.doubles} doubles "
          f"a rank; medians over the checkpoints of {args.runs} run(s) a row, ms "
          f"({os.cpu_count()} cores)")
    print("| family | ranks | checkpoints | cut | stop | prepare | commit (manifest / told / "
          "pruned) | coordination | write (all durable) | target: coordination |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for fam in families:
            exe = os.path.join(tmp, f"coord-{fam}")
            subprocess.run([os.path.join(bindir, "autockpt-mpicc"), "-O2",
                            os.path.join(HERE, "coord.c"), "-o", exe], check=True,
                           env=dict(env, AUTOCKPT_MPI_FAMILY=fam))
            for np_ in [int(n) for n in args.ranks.split(",")]:
                rows = []
                for run in range(args.runs):
                    ckpt = os.path.join(tmp, f"ckpt-{fam}-{np_}-{run}")
                    run_env = dict(env, AUTOCKPT_DIR=ckpt, **settings)
                    cmd = FAMILIES[fam][1] + [str(np_)]
                    if fam == "openmpi":
                        run_env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
                        for k in list(settings) + ["AUTOCKPT_DIR"]:
                            cmd += ["-x", k]
                    p = subprocess.run(cmd + [exe, str(args.steps), str(args.every),
                                              str(args.doubles)],
                                       capture_output=True, text=True, timeout=600, cwd=tmp,
                                       env=run_env)
                    cuts = [tuple(map(float, m)) for m in CUT.findall(p.stderr)]
                    commits = [tuple(map(float, m)) for m in COMMIT.findall(p.stderr)]
                    if p.returncode != 0 or "BENCH check=" not in p.stdout or not cuts or \
                            len(cuts) != len(commits):
                        print(f"{fam}, {np_} ranks: exit {p.returncode}, {len(cuts)} cuts and "
                              f"{len(commits)} commits logged:\n{p.stderr[-1500:]}")
                        ok = False
                        continue
                    rows += [c + m for c, m in zip(cuts, commits)]
                    shutil.rmtree(ckpt, ignore_errors=True)
                if not rows:
                    continue
                cut, stop, prep, write, _, commit, manifest, told, pruned = (
                    statistics.median(r[i] for r in rows) for i in range(9))
                coord = statistics.median(r[0] + r[1] + r[2] + r[5] for r in rows)
                print(f"| {fam} | {np_} | {len(rows)} | {cut:.2f} | {stop:.2f} | {prep:.2f} "
                      f"| {commit:.2f} ({manifest:.2f} / {told:.2f} / {pruned:.2f}) "
                      f"| {coord:.2f} | {write:.2f} | <= {TARGET_MS:g} "
                      f"{'met' if coord <= TARGET_MS else 'NOT met'} |")
                sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
