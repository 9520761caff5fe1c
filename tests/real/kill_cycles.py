#!/usr/bin/env python3
"""Kill cycles on the real programs of ../shared/real-programs (issue 15), run by hand, not in CI:
each program is built plainly and with the compiler wrappers (build.sh), run once of each to
measure the overhead, then the instrumented one is killed with SIGKILL --kills times at random
moments and run a last time to the end.  Prints one table row per program: overhead, image size,
pass/fail.

    python3 tests/real/kill_cycles.py --config build/bin/autockpt-config --work /tmp/real lua npb-ser-cg

A run is killed at a random moment after it has committed a new checkpoint (AUTOCKPT_INTERVAL),
so every run makes progress.  The outputs are judged as ckpt_cycle.py --same-output judges them:
every run's compare lines (run.sh's filter) are a contiguous slice of the plain run's, each run
starts no later than where the one before stopped and no earlier than where that one started
(lines between a checkpoint and a kill appear twice), and the last run ends where the plain run
ends.  Times are wall-clock on whatever the machine is doing: this is a measurement, not a test.
NAS kernels use class A here (NPB_SER_LIST) so that a run takes seconds, not a minute; the
OpenMP ones (npb-omp-*, OMP_NUM_THREADS=2 as run.sh runs them) the classes of NPB_OMP_CLASSES.
pigz (threaded: issue 9) compresses 10 million lines of `seq` with -p 2; it prints nothing, so
its runs are judged by the md5 of the compressed file the last run leaves.
miniMD and PENNANT (MPI, issue 11) run as run.sh runs them (--np ranks, 2 by default, 1 OpenMP
thread; miniMD the upstream LJ input for MINIMD_STEPS steps, PENNANT nohpoly-c800.pnt stopped at
PENNANT_CYCLES cycles); they are built with autockpt-mpicxx for --family (openmpi or mpich: the
plain build with that family's mpicxx, the runs with its launcher), and a kill is SIGKILL to the
launcher and every rank at once.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

REAL = os.path.normpath(os.path.join(os.path.dirname(__file__), "../../../shared/real-programs"))
NPB_CLASSES = "cg:A ep:A ft:A is:A lu:A bt:A"
# LU and BT with 2 threads on a shared 2-core machine take minutes at class A: W and S.
NPB_OMP_CLASSES = "cg:A ep:W ft:A is:A lu:S bt:W"
MINIMD_STEPS = 200
PENNANT_CYCLES = 400  # of the input's 800: 4 reports ("End cycle"), 12-20 s plain here
NP = 2
FAMILY = "openmpi"
NPB_DROP = re.compile(r"Initialization time|CPU Time|Time in seconds|Mop/s|Compiler ver")


def compare_lines(name, text):
    """run.sh's filter, applied to a run's full output (killed runs have no run.sh filter)."""
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # a killed run's incomplete last line
    else:
        lines = lines[:-1]
    if name.startswith("npb-"):
        out = []
        for line in lines:
            if "Compile date" in line:
                break
            if NPB_DROP.search(line) or not line.split():
                continue
            out.append(line)
        return out
    if name == "minimd":
        # run.sh's filter, without its state: a resumed run does not print the headers again.
        # The settings echo, the thermo lines (step T U P time) without the time, the first
        # four fields of PERF_SUMMARY.
        out = []
        for line in lines:
            f = line.split()
            if "PERF_SUMMARY" in line:
                out.append("perf: " + " ".join(f[:4]))
            elif line.startswith("\t# "):
                out.append(line)
            elif len(f) == 5 and f[0].isdigit() and all(re.fullmatch(r"-?[0-9.e+-]+", x) for x in f):
                out.append(" ".join(f[:4]))
        return out
    if name == "pennant":
        # run.sh's filter: no run-time banner or "****" lines, no ", wall = ..." on cycle lines.
        return [re.sub(r", wall = .*$", "", l) for l in lines
                if "hydro cycle run time" not in l and not re.fullmatch(r"\*+", l)]
    return lines


def launch(env):
    """The family's launcher for NP ranks, passing OMP_NUM_THREADS and the AUTOCKPT_ variables."""
    names = ["OMP_NUM_THREADS"] + [k for k in sorted(env or {}) if k.startswith("AUTOCKPT_")]
    if FAMILY == "mpich":  # hydra passes the whole environment
        return ["mpiexec.mpich", "-np", str(NP)]
    return ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-np", str(NP)] + \
        [a for k in names for a in ("-x", k)]


def command(name, build, env=None):
    if name == "lua":
        return [f"{build}/lua/lua", f"{build}/inputs/lua/bench.lua", "2"]
    if name.startswith("npb-ser-") or name.startswith("npb-omp-"):
        b = name.rsplit("-", 1)[1]
        v = "SER" if name.startswith("npb-ser-") else "OMP"
        bins = [f for f in os.listdir(f"{build}/npb-cpp/NPB-{v}/bin") if f.startswith(b + ".")]
        return [f"{build}/npb-cpp/NPB-{v}/bin/{bins[0]}"]
    if name == "minimd":
        return launch(env) + [f"{build}/minimd/miniMD_openmpi", "-i", "in.lj.miniMD", "-t", "1",
                              "-n", str(MINIMD_STEPS)]
    if name == "pennant":
        return launch(env) + [f"{build}/pennant/build/pennant", "pennant.pnt"]
    if name == "pigz":  # threaded (issue 9): two compression threads, a writer, the reader
        return [f"{build}/pigz/pigz", "-p", "2", "-9", "-n", "-k", "-f", "data.txt"]
    raise SystemExit(f"kill_cycles.py: {name} is not a program this script runs")


PIGZ_LINES = 10_000_000  # `seq` lines: 79 MB, a few seconds of compression


def prepare(name, d, build):
    """The input a program reads in its run directory."""
    if name == "minimd":
        shutil.copy(f"{build}/minimd/in.lj.miniMD", d)
    if name == "pennant":  # the set's input, stopped earlier
        text = open(f"{build}/inputs/pennant/nohpoly-c800.pnt").read()
        with open(os.path.join(d, "pennant.pnt"), "w") as f:
            f.write(re.sub(r"(?m)^cstop\s+\d+", f"cstop   {PENNANT_CYCLES}", text))
    if name == "pigz":
        with open(os.path.join(d, "data.txt"), "w") as f:
            subprocess.run(["seq", "1", str(PIGZ_LINES)], stdout=f, check=True)


def result_lines(name, d, text, ended):
    """What a run is judged by: its compare lines; pigz prints nothing, so the md5 of its output
    file once a run has ended by itself."""
    if name != "pigz":
        return compare_lines(name, text)
    if not ended:
        return []
    with open(os.path.join(d, "data.txt.gz"), "rb") as f:
        return [hashlib.md5(f.read()).hexdigest()]


def run(cmd, cwd, env, kill_after=None, ckpt=None, rng=None, interval=0.0):
    """Runs cmd; with kill_after, SIGKILLs it at a random moment after its first new checkpoint."""
    out_path = os.path.join(cwd, "out.%d" % len([f for f in os.listdir(cwd) if f.startswith("out.")]))
    before = set(committed(ckpt)) if ckpt else set()
    t0 = time.monotonic()
    with open(out_path, "w") as out, open(os.path.join(cwd, "err"), "a") as err:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
        killed = False
        if kill_after:
            while p.poll() is None and not (set(committed(ckpt)) - before):
                time.sleep(0.02)
            if p.poll() is None:
                time.sleep(rng.uniform(0, interval))
                if p.poll() is None:
                    kill_tree(p.pid)
                    killed = True
        p.wait()
    return p.returncode, killed, time.monotonic() - t0, open(out_path, errors="replace").read()


def kill_tree(pid):
    """SIGKILL to pid's process group and to every descendant (mpirun's ranks), all at once."""
    children = {}
    for e in os.listdir("/proc"):
        try:
            with open(f"/proc/{e}/stat") as f:
                children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(e))
        except (OSError, ValueError, IndexError):
            continue
    todo, pids = [pid], []
    while todo:
        q = todo.pop()
        pids.append(q)
        todo.extend(children.get(q, []))
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for q in pids:
        try:
            os.kill(q, signal.SIGKILL)
        except ProcessLookupError:
            pass


def committed(ckpt):
    if not ckpt or not os.path.isdir(ckpt):
        return []
    return [d for d in os.listdir(ckpt) if os.path.exists(os.path.join(ckpt, d, "MANIFEST"))]


def judge(ref, runs):
    start, prev_start, prev_n = 0, 0, 0
    for k, lines in enumerate(runs):
        if not lines and k > 0:
            continue  # killed before it printed: where it stands says nothing
        if k == 0:
            cands = [0]
        else:
            cands = range(prev_start, prev_start + prev_n + 1)
        found = None
        for s in cands:
            if ref[s:s + len(lines)] == lines:
                found = s
                break
        if found is None:
            return f"run {k + 1}'s lines are not a slice of the reference where expected"
        prev_start, prev_n = found, len(lines)
    if prev_start + prev_n != len(ref):
        return "the last run does not end where the reference ends"
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="autockpt-config of the build to use")
    ap.add_argument("--work", required=True, help="directory for the builds and runs")
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--interval", type=float, default=1.0, help="AUTOCKPT_INTERVAL of the runs")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--family", choices=["openmpi", "mpich"], default="openmpi",
                    help="the MPI of the MPI programs (minimd, pennant)")
    ap.add_argument("--np", type=int, default=2, help="ranks of the MPI programs")
    ap.add_argument("programs", nargs="+")
    args = ap.parse_args()
    global NP, FAMILY
    NP, FAMILY = args.np, args.family
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    config = os.path.abspath(args.config)
    bindir = os.path.dirname(config)
    work = os.path.abspath(args.work)
    suffix = "" if FAMILY == "openmpi" else "-" + FAMILY
    plain, inst = os.path.join(work, "plain" + suffix), os.path.join(work, "inst" + suffix)
    names = [n.replace("npb-ser-", "npb-ser") if False else n for n in args.programs]
    build_names = sorted({n[:7] if n.startswith(("npb-ser-", "npb-omp-")) else n for n in names})
    if not args.no_build:
        env = dict(os.environ, NPB_SER_LIST=NPB_CLASSES, NPB_OMP_LIST=NPB_OMP_CLASSES)
        subprocess.run([f"{REAL}/build.sh", plain] + build_names, env=dict(env, CC="clang-19",
                       CXX="clang++-19", MPICXX=f"mpicxx.{FAMILY}"), check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([f"{REAL}/build.sh", inst] + build_names,
                       env=dict(env, CC=f"{bindir}/autockpt-cc", CXX=f"{bindir}/autockpt-c++",
                                MPICXX=f"{bindir}/autockpt-mpicxx", AUTOCKPT_MPI_FAMILY=FAMILY),
                       check=True, stdout=subprocess.DEVNULL)
    print(f"kill_cycles: seed {seed}, {args.kills} kills, AUTOCKPT_INTERVAL={args.interval}, "
          f"MPI programs: {NP} ranks of {FAMILY}")
    print("| program | plain s | instrumented s | overhead | image | kills | result |")
    print("|---|---|---|---|---|---|---|")
    failed = 0
    for name in names:
        d = os.path.join(work, "runs", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        ckpt = os.path.join(d, "ckpt")
        prepare(name, d, plain)
        base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
        if name.startswith("npb-omp-"):
            base["OMP_NUM_THREADS"] = "2"
        if name in ("minimd", "pennant"):
            base["OMP_NUM_THREADS"] = "1"
        rc, _, t_plain, out = run(command(name, plain), d, base)
        ref = result_lines(name, d, out, True)
        quiet = dict(base, AUTOCKPT_DIR=os.path.join(d, "ckpt0"))
        rc2, _, t_inst, out2 = run(command(name, inst, quiet), d, quiet)
        why = "" if (rc2 == rc and result_lines(name, d, out2, True) == ref) else \
            f"uninterrupted instrumented run differs (exit {rc2})"
        env = dict(base, AUTOCKPT_DIR=ckpt, AUTOCKPT_INTERVAL=str(args.interval))
        runs, image, kills = [], 0, 0
        for k in range(args.kills + 1):
            last = k == args.kills
            rc3, killed, _, out3 = run(command(name, inst, env), d, env, kill_after=not last,
                                       ckpt=ckpt, rng=rng, interval=args.interval)
            runs.append(result_lines(name, d, out3, not killed))
            kills += killed
            gens = sorted(committed(ckpt))
            if gens:
                g = os.path.join(ckpt, gens[-1])
                image = max(image, sum(os.path.getsize(os.path.join(g, f)) for f in os.listdir(g)))
            if not killed:  # ended by itself (a short program may end before its kill)
                if rc3 != rc:
                    why = why or f"run {k + 1} exit {rc3}, plain {rc}"
                break
        why = why or judge(ref, runs)
        failed += bool(why)
        print(f"| {name} | {t_plain:.1f} | {t_inst:.1f} | {t_inst / t_plain:.2f} | "
              f"{image / 2**20:.1f} MiB | {kills} | {'FAIL: ' + why if why else 'pass'} |")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
