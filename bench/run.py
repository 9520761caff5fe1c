#!/usr/bin/env python3
"""autockpt benchmarks: builds every kernel plain and instrumented, runs them side by side and
prints ONE table of ratios (instrumented / plain, checkpoint write / dd, restart / cat, request ->
checkpoint latency) next to the targets of DESIGN.md section 4.  Leaves building autockpt itself
to CMake, and pass/fail of functionality to tests/ and lit-tests/.

    python3 bench/run.py            # full run, about 4-5 minutes on 2 cores
    python3 bench/run.py --quick    # about 1.5 minutes: fewer rounds, shorter kernels, 256 MiB image

Only the Python 3 standard library is used.  Kernel times are measured inside each program
(clock_gettime around the kernel: CPU time, which other processes taking the cores do not inflate,
and wall time for reference); plain and instrumented runs alternate (plain, instr, instr, plain,
...) and each figure is a median, so load from other processes hits both builds alike.
Instruction counts under callgrind (exact, noise-free) are given beside the times.
bench/attribution.py splits an instrumented kernel's overhead by kind of instrumentation.
"""

import argparse
import concurrent.futures
import datetime
import glob
import json
import math
import os
import platform
import random
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
KDIR = os.path.join(BENCH, "kernels")
sys.path.insert(0, BENCH)
import stop as stopbench  # noqa: E402  (bench/stop.py: the stop and periodic cost)
import incremental as incrbench  # noqa: E402  (bench/incremental.py: incremental images)
PDIR = os.path.join(BENCH, "programs")
FLAGS = ["-O2", "-march=x86-64"]
CXXFLAGS = ["-std=c++17"]


class Kernel:
    def __init__(self, name, source, group, target, callgrind_args, what):
        self.name = name            # as the program prints it
        self.source = source        # in bench/kernels
        self.group = group          # "kernel" (overhead, in the geomean) or "alloc"
        self.target = target        # largest acceptable ratio instrumented / plain
        self.callgrind_args = callgrind_args  # REPS_SCALE SIZE_SCALE for a short run
        self.what = what
        self.cxx = source.endswith(".cpp")


KERNELS = [
    Kernel("triad_mem", "triad_mem.c", "kernel", 1.03, ["1", "0.02"],
           "a = b + s*c, 3 x 160 MB (memory-bound)"),
    Kernel("triad_l1", "triad_l1.c", "kernel", 1.03, ["0.02", "1"],
           "the same triad, 3 x 8 KB (in L1), 1000-element calls"),
    Kernel("stencil", "stencil.c", "kernel", 1.03, ["0.2", "0.25"],
           "2D 5-point Jacobi, 2000^2"),
    Kernel("matmul", "matmul.c", "kernel", 1.03, ["1", "0.25"],
           "blocked matrix multiply, 800^2, 64^2 blocks"),
    Kernel("ptrchase", "ptrchase.c", "kernel", 1.03, ["1", "0.1"],
           "shuffled linked list, 4M nodes"),
    Kernel("recursion", "recursion.c", "kernel", 1.03, ["0.04", "1"],
           "naive fib(37) + divide-and-conquer sum"),
    Kernel("stl_virtual", "stl.cpp", "kernel", 1.03, ["0.25", "0.1"],
           "virtual calls, std::map/unordered_map, std::function"),
    Kernel("qsort", "qsort.c", "kernel", 1.03, ["1", "0.05"],
           "libc qsort of 1M doubles, comparator callback"),
    Kernel("alloc_churn", "alloc_churn.c", "alloc", 1.10, ["0.05", "1"],
           "malloc/free/realloc churn, mixed sizes"),
    Kernel("alloc_cxx", "alloc_cxx.cpp", "alloc", 1.10, ["0.05", "1"],
           "std::map<int,std::string> churn, vector growth"),
]

GEOMEAN_TARGET = 1.01
TEXT_TARGET = 1.5                 # instrumented / plain code of a kernel
WRITE_TARGET = 0.90
RESTART_TARGET = 1.10
LATENCY_TARGET_MS = 1.0
PROBE_MAGIC = 0x59434E4554414C41  # latency.c's probe, "ALATENCY"
HEADER_CREATED_NS = 112           # offsetof(FileHeader, created_unix_ns), runtime/image/format.h


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---- Building ---------------------------------------------------------------------------------

class Toolchain:
    def __init__(self, config):
        def q(flag):
            r = sh([config, flag])
            if r.returncode != 0:
                sys.exit(f"run.py: {config} {flag} failed: {r.stderr.strip()}")
            return r.stdout.strip()
        self.cc, self.cxx = q("--cc"), q("--cxx")
        self.plugin = q("--plugin")
        self.ldflags = q("--ldflags").split()
        for path in (self.plugin, self.ldflags[0]):
            if not os.path.exists(path):
                sys.exit(f"run.py: {path} is missing; build autockpt first:\n"
                         f"  cmake -S {ROOT} -B {ROOT}/build -G Ninja && ninja -C {ROOT}/build -j2")

    def command(self, sources, out, cxx, instrumented, extra=()):
        cmd = [self.cxx if cxx else self.cc] + FLAGS + (CXXFLAGS if cxx else [])
        cmd += ["-Rpass=loop-vectorize"]
        if instrumented:
            cmd += [f"-fpass-plugin={self.plugin}"]
        cmd += list(sources) + ["-o", out] + list(extra)
        cmd += self.ldflags if instrumented else ["-lm"]
        return cmd


VEC_REMARK = re.compile(r"^(.*?):(\d+):(\d+): remark: (vectorized loop[^\[]*)")


def vectorized_loops(stderr):
    """The set of (file, line, col, remark) the loop vectorizer reported."""
    found = set()
    for line in stderr.splitlines():
        m = VEC_REMARK.match(line)
        if m:
            found.add((os.path.basename(m.group(1)), int(m.group(2)), int(m.group(3)),
                       m.group(4).strip()))
    return found


def build_all(tc, work, jobs):
    """Builds every program both ways; returns {name: {"plain": path, "instr": path, vec...}}."""
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    probe_obj = os.path.join(bindir, "poll_probe.o")
    r = sh([tc.cc] + FLAGS + ["-c", os.path.join(PDIR, "poll_probe.c"), "-o", probe_obj])
    if r.returncode != 0:
        sys.exit("run.py: cannot compile poll_probe.c:\n" + r.stderr)
    jobs_list = []
    for k in KERNELS:
        src = os.path.join(KDIR, k.source)
        for mode in ("plain", "instr"):
            out = os.path.join(bindir, f"{k.name}.{mode}")
            jobs_list.append((k.name, mode, tc.command([src], out, k.cxx, mode == "instr"), out))
    for prog in ("bigheap", "latency"):
        src = os.path.join(PDIR, prog + ".c")
        for mode in ("plain", "instr"):
            out = os.path.join(bindir, f"{prog}.{mode}")
            extra = []
            srcs = [src]
            if prog == "latency" and mode == "instr":
                srcs.append(probe_obj)
                extra = ["-Wl,--wrap=__autockpt_poll_slow"]
            jobs_list.append((prog, mode, tc.command(srcs, out, False, mode == "instr", extra), out))
    out = os.path.join(bindir, "readref")
    jobs_list.append(("readref", "plain",
                      [tc.cc] + FLAGS + [os.path.join(PDIR, "readref.c"), "-o", out], out))

    built = {}
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(sh, cmd): (name, mode, cmd, out) for name, mode, cmd, out in jobs_list}
        for f in concurrent.futures.as_completed(futures):
            name, mode, cmd, out = futures[f]
            r = f.result()
            if r.returncode != 0:
                sys.exit(f"run.py: build failed: {' '.join(cmd)}\n{r.stderr}")
            entry = built.setdefault(name, {})
            entry[mode] = out
            entry["vec_" + mode] = vectorized_loops(r.stderr)
    log(f"built {len(jobs_list)} programs in {time.monotonic() - t0:.0f} s")
    return built


def text_bytes(path):
    """Bytes of code in an object or executable: every .text* section (`size -A`)."""
    r = sh(["size", "-A", path])
    if r.returncode != 0:
        return None
    return sum(int(f[1]) for f in (l.split() for l in r.stdout.splitlines())
               if len(f) >= 2 and f[0].startswith(".text") and f[1].isdigit())


def code_sizes(tc, built, work):
    """{kernel: {obj_plain, obj_instr, exe_plain, exe_instr}}: the kernel's own code compiled
    alone (-c) both ways, and the linked programs (the runtime is the rest of exe_instr)."""
    sizes = {}
    for k in KERNELS:
        if k.name not in built:
            continue
        src = os.path.join(KDIR, k.source)
        e = {}
        for mode in ("plain", "instr"):
            obj = os.path.join(work, "bin", f"{k.name}.{mode}.o")
            cmd = [tc.cxx if k.cxx else tc.cc] + FLAGS + (CXXFLAGS if k.cxx else []) + ["-c", src, "-o", obj]
            if mode == "instr":
                cmd.insert(1, f"-fpass-plugin={tc.plugin}")
            if sh(cmd).returncode != 0:
                break
            e["obj_" + mode] = text_bytes(obj)
            e["exe_" + mode] = text_bytes(built[k.name][mode])
        if all(e.get(x) for x in ("obj_plain", "obj_instr", "exe_plain", "exe_instr")):
            sizes[k.name] = e
    return sizes


# ---- Running the kernels ----------------------------------------------------------------------

BENCH_LINE = re.compile(r"^BENCH kernel=(\S+) seconds=([0-9.]+) cpu=([0-9.]+) checksum=(\S+)", re.M)


def kernel_env(work, name):
    env = dict(os.environ)
    env.update(AUTOCKPT_DIR=os.path.join(work, "ckpt-" + name), AUTOCKPT_RESTART="never",
               AUTOCKPT_VERBOSE="1")
    env.pop("AUTOCKPT_INTERVAL", None)
    return env


def run_kernel(path, args, env, timeout=120, cpu=None):
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    try:
        r = sh([path] + args, env=env, timeout=timeout, preexec_fn=pin)
    except subprocess.TimeoutExpired:
        return None, f"no result after {timeout} s"
    m = BENCH_LINE.search(r.stdout)
    if r.returncode != 0 or not m:
        return None, f"exit status {r.returncode}; stdout: {r.stdout[-300:]!r} stderr: {r.stderr[-500:]!r}"
    return (float(m.group(3)), float(m.group(2)), m.group(4)), None


def run_kernels(built, work, rounds, reps_scale, errors, cpus):
    """Returns {name: {"plain": [cpu s], "instr": [...], "plain_wall": [...], "instr_wall": [...]}}.

    Both runs of a pair are pinned to the same CPU, the CPU taken in turn from `cpus` round by
    round: the cores of a VM need not be alike (here one ran every kernel 1.32 times slower than
    the other), and unpinned runs compared the cores more than the builds."""
    times = {k.name: {"plain": [], "instr": [], "plain_wall": [], "instr_wall": []}
             for k in KERNELS}
    checksums = {k.name: {"plain": set(), "instr": set()} for k in KERNELS}
    args = [repr(reps_scale)]
    for rnd in range(rounds):
        t0 = time.monotonic()
        for i, k in enumerate(KERNELS):
            order = ("plain", "instr") if (rnd + i) % 2 == 0 else ("instr", "plain")
            cpu = cpus[rnd % len(cpus)] if cpus else None
            for mode in order:
                res, err = run_kernel(built[k.name][mode], args, kernel_env(work, k.name), cpu=cpu)
                if err:
                    errors.append(f"{k.name} ({mode}) failed: {err}")
                    continue
                times[k.name][mode].append(res[0])
                times[k.name][mode + "_wall"].append(res[1])
                checksums[k.name][mode].add(res[2])
        log(f"round {rnd + 1}/{rounds} of the kernels: {time.monotonic() - t0:.0f} s")
    for k in KERNELS:
        c = checksums[k.name]
        if len(c["plain"] | c["instr"]) > 1:
            errors.append(f"{k.name}: WRONG CHECKSUM: plain {sorted(c['plain'])} vs "
                          f"instrumented {sorted(c['instr'])}")
    return times


COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def callgrind_counts(built, work, errors):
    """Instructions executed inside bench_kernel* (and what it calls), both builds."""
    if not shutil.which("valgrind"):
        log("valgrind not found: no instruction counts")
        return {}
    counts = {}
    t0 = time.monotonic()
    for k in KERNELS:
        counts[k.name] = {}
        for mode in ("plain", "instr"):
            out = os.path.join(work, f"callgrind.{k.name}.{mode}")
            # setarch -R: the runtime then has no reason to re-execute itself (it turns address
            # randomisation off that way), which valgrind cannot follow.
            cmd = ["setarch", platform.machine(), "-R", "valgrind", "--tool=callgrind",
                   "--toggle-collect=bench_kernel*", f"--callgrind-out-file={out}",
                   built[k.name][mode]] + k.callgrind_args
            r = sh(cmd, env=kernel_env(work, k.name), timeout=600)
            m = COLLECTED.findall(r.stderr)
            if r.returncode != 0 or not m:
                errors.append(f"callgrind {k.name} ({mode}) failed: {r.stderr[-400:]!r}")
                continue
            counts[k.name][mode] = sum(int(x) for x in m)
            try:
                os.unlink(out)
            except OSError:
                pass
    log(f"callgrind counts in {time.monotonic() - t0:.0f} s")
    return counts


# ---- Checkpoint image: write and restart ---------------------------------------------------------

SETTLE_S = 2.0  # idle time before each timed write: the disk's write-back of the previous one


def settle():
    """Flushes dirty pages and waits, so that every timed write starts on an idle disk (a write
    that follows another one closely was measured up to 2x slower on this VM)."""
    os.sync()
    time.sleep(SETTLE_S)


def evict(path):
    """Drops a file's pages from the page cache (works without root: the pages are clean)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_fraction(path):
    """Fraction of the file in the page cache, from fincore(1), or None."""
    if not shutil.which("fincore"):
        return None
    r = sh(["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", path])
    try:
        res, size = (int(x) for x in r.stdout.split()[:2])
        return res / size if size else 0.0
    except ValueError:
        return None


def read_line(proc, timeout):
    """The next line of proc's stdout, or None after `timeout` seconds."""
    fd = proc.stdout.fileno()
    buf = b""
    end = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1)
        if not chunk:
            return buf.decode() or None
        buf += chunk
    return buf.decode().rstrip("\n")


def image_file(ckdir):
    files = sorted(glob.glob(os.path.join(ckdir, "gen-*", "rank-*.ackpt")))
    return files[-1] if files else None


CKPT_LOG = re.compile(r"checkpoint (\d+) \(.*\) written to .* in (\d+) ms")


def checkpoint_once(prog, mib, steps, ckdir, errors):
    """Starts bigheap, checkpoints it with SIGUSR1 (it then exits 75).  Returns (ms, bytes,
    last step printed before the checkpoint)."""
    shutil.rmtree(ckdir, ignore_errors=True)
    settle()
    env = dict(os.environ, AUTOCKPT_DIR=ckdir, AUTOCKPT_RESTART="never", AUTOCKPT_VERBOSE="1")
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen([prog, str(mib), str(steps)], stdout=subprocess.PIPE, stderr=errf,
                         env=env)
    first = read_line(p, 120)
    startup = time.monotonic() - t0
    if not first or not first.startswith("ready"):
        p.kill()
        p.wait()
        errors.append(f"bigheap did not start: {first!r}")
        return None
    p.send_signal(signal.SIGUSR1)
    rest = p.stdout.read().decode()
    rc = p.wait()
    errf.seek(0)
    err = errf.read().decode()
    m = CKPT_LOG.search(err)
    path = image_file(ckdir)
    if rc != 75 or not m or not path:
        errors.append(f"bigheap checkpoint failed: exit {rc}, stderr {err[-400:]!r}")
        return None
    steps_seen = [int(s.split()[1]) for s in rest.splitlines() if s.startswith("step ")]
    return (int(m.group(2)), os.path.getsize(path), (steps_seen[-1] if steps_seen else -1),
            startup)


def dd_write(ckdir, nbytes, idle, direct=False):
    """Times dd writing nbytes durably; idle: extra seconds of idle disk before it, to match the
    checkpoint's (the program's start-up)."""
    out = os.path.join(ckdir, "dd.bin")
    count = max(1, (nbytes + (8 << 20) - 1) // (8 << 20))
    settle()
    time.sleep(idle)
    t0 = time.monotonic()
    r = sh(["dd", "if=/dev/zero", f"of={out}", "bs=8M", f"count={count}", "conv=fsync",
            "status=none"] + (["oflag=direct"] if direct else []))
    t = time.monotonic() - t0
    size = os.path.getsize(out) if os.path.exists(out) else 0
    os.unlink(out)
    os.sync()
    if r.returncode != 0:
        raise RuntimeError("dd failed: " + r.stderr)
    return t, size


def restart_once(prog, mib, ckdir, expect_step, cold, errors):
    """Runs the program again, so that it resumes from the image; returns seconds from exec to
    its first line, and kills it there."""
    path = image_file(ckdir)
    if cold:
        evict(path)
        frac = cached_fraction(path)
        if frac is not None and frac > 0.01:
            errors.append(f"could not evict the image from the page cache ({frac:.0%} cached)")
    env = dict(os.environ, AUTOCKPT_DIR=ckdir, AUTOCKPT_VERBOSE="1")
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen([prog, str(mib)], stdout=subprocess.PIPE, stderr=errf, env=env)
    line = read_line(p, 120)
    t = time.monotonic() - t0
    p.kill()
    p.wait()
    errf.seek(0)
    err = errf.read().decode()
    want = f"step {expect_step + 1}"
    if line != want or "resuming from checkpoint" not in err:
        errors.append(f"restart printed {line!r} first (expected {want!r}); stderr {err[-300:]!r}")
        return None
    return t


def timed_cat(path, cold):
    if cold:
        evict(path)
    t0 = time.monotonic()
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - t0


def image_bench(built, work, mib, rounds, full, errors):
    """Checkpoint write against dd, then restart against cat, each pair interleaved."""
    ckdir = os.path.join(work, "ckpt-bigheap")
    prog = built["bigheap"]["instr"]
    steps = 20000  # about 1 s of steps after the restart, for the end-to-end check
    res = {"mib": mib, "ckpt_ms": [], "ckpt_bytes": [], "dd_s": [], "dd_bytes": [],
           "restart_cold": [], "cat_cold": [], "eager_floor": [],
           "restart_warm": [], "cat_warm": [], "dd_direct_bps": []}
    last_step = None
    t0 = time.monotonic()
    for rnd in range(rounds):
        first_dd = rnd % 2 == 1
        if first_dd and res["ckpt_bytes"]:
            t, n = dd_write(ckdir, res["ckpt_bytes"][-1], startup)
            res["dd_s"].append(t)
            res["dd_bytes"].append(n)
        c = checkpoint_once(prog, mib, steps, ckdir, errors)
        if not c:
            return res
        res["ckpt_ms"].append(c[0])
        res["ckpt_bytes"].append(c[1])
        last_step, startup = c[2], c[3]
        if not first_dd:
            t, n = dd_write(ckdir, c[1], startup)
            res["dd_s"].append(t)
            res["dd_bytes"].append(n)
        if full:  # what the disk does without the page cache in the way (for reference)
            t, n = dd_write(ckdir, c[1], startup, direct=True)
            res["dd_direct_bps"].append(n / t)
    log(f"image write: {time.monotonic() - t0:.0f} s")

    t0 = time.monotonic()
    img = image_file(ckdir)
    for rnd in range(rounds):
        steps_in_order = ["restart", "cat", "floor"] if rnd % 2 == 0 else ["cat", "floor", "restart"]
        for what in steps_in_order:
            if what == "restart":
                t = restart_once(prog, mib, ckdir, last_step, True, errors)
                if t is not None:
                    res["restart_cold"].append(t)
            elif what == "cat":
                res["cat_cold"].append(timed_cat(img, True))
            else:
                evict(img)
                r = sh([built["readref"]["plain"], img])
                m = re.search(r"seconds=([0-9.]+)", r.stdout)
                if m:
                    res["eager_floor"].append(float(m.group(1)))
    for rnd in range(max(1, rounds - 1)):  # warm page cache, for reference
        timed_cat(img, False)
        t = restart_once(prog, mib, ckdir, last_step, False, errors)
        if t is not None:
            res["restart_warm"].append(t)
        res["cat_warm"].append(timed_cat(img, False))
    log(f"restart: {time.monotonic() - t0:.0f} s")

    if full:  # end to end: the resumed run must finish with the output of an uninterrupted one
        env = dict(os.environ, AUTOCKPT_DIR=ckdir, AUTOCKPT_VERBOSE="0")
        resumed = sh([prog, str(mib), str(steps)], env=env, timeout=300)
        plain = sh([built["bigheap"]["plain"], str(mib), str(steps)], timeout=300)
        done_r = [l for l in resumed.stdout.splitlines() if l.startswith("done")]
        done_p = [l for l in plain.stdout.splitlines() if l.startswith("done")]
        res["end_to_end"] = bool(done_r) and done_r == done_p
        if not res["end_to_end"]:
            errors.append(f"bigheap resumed from its image ended with {done_r} "
                          f"but the plain build with {done_p}")
    shutil.rmtree(ckdir, ignore_errors=True)
    return res


# ---- Latency --------------------------------------------------------------------------------

def boost():
    """Raises the calling process's scheduling priority where allowed, so that the latency
    figures describe the program rather than the other processes on the machine."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass


def latency_bench(built, work, samples, errors):
    """Signals latency.c at a random moment; the image holds the time of the first poll that
    saw the request (poll_probe.c) and its header the time the image was begun."""
    boost()
    ckdir = os.path.join(work, "ckpt-latency")
    prog = built["latency"]["instr"]
    res = {"poll_ms": [], "header_ms": [], "cpu_ms": []}
    rng = random.Random(7)
    for _ in range(samples):
        shutil.rmtree(ckdir, ignore_errors=True)
        env = dict(os.environ, AUTOCKPT_DIR=ckdir, AUTOCKPT_RESTART="never")
        p = subprocess.Popen([prog], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             preexec_fn=boost)
        if read_line(p, 30) != "ready":
            p.kill()
            p.wait()
            errors.append("latency program did not start")
            continue
        time.sleep(rng.uniform(0.05, 0.25))
        sent_real = time.time_ns()
        sent = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        os.kill(p.pid, signal.SIGUSR1)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            errors.append("latency program did not stop after SIGUSR1")
            continue
        err = p.stderr.read().decode()
        path = image_file(ckdir)
        if rc != 75 or not path:
            errors.append(f"latency program: exit {rc}, stderr {err[-300:]!r}")
            continue
        with open(path, "rb") as f:
            data = f.read()
        at = data.find(struct.pack("<Q", PROBE_MAGIC))
        if at < 0:
            errors.append("latency: the probe is not in the image")
            continue
        _, last_row, rows, poll, polls, last_cpu, poll_cpu = struct.unpack_from("<7Q", data, at)
        created = struct.unpack_from("<Q", data, HEADER_CREATED_NS)[0]
        if not poll:
            errors.append("latency: no poll recorded")
            continue
        res["poll_ms"].append((poll - sent) / 1e6)
        # The CPU time the program used from the start of its last row (before the request
        # arrived) to the poll: the latency the code is responsible for, without the time the
        # program spent preempted by other processes.
        res["cpu_ms"].append((poll_cpu - last_cpu) / 1e6)
        res["header_ms"].append((created - sent_real) / 1e6)
    shutil.rmtree(ckdir, ignore_errors=True)
    return res


# ---- The table --------------------------------------------------------------------------------

def verdict(ok):
    return "yes" if ok else "NO"


def fmt_range(xs):
    return f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"


def render(meta, built, times, counts, img, lat, errors, sizes=None):
    out = []
    w = out.append
    w(f"autockpt benchmarks  {meta['date']}  git {meta['git']}  {meta['cpu']}, {meta['ncpu']} cores")
    w(f"clang {meta['clang']}: {' '.join(FLAGS)}; {meta['rounds']} interleaved rounds, "
      f"repetition scale {meta['reps_scale']}; load average {meta['load_start']} -> {meta['load_end']}")
    w(f"each round's plain and instrumented runs pinned to one CPU, in turn: "
      f"{', '.join(map(str, meta.get('cpus', [])))}")
    w("")
    w("time = CPU time of the kernel (clock_gettime(CLOCK_PROCESS_CPUTIME_ID) around it), median of")
    w("the rounds; ratio = instrumented / plain; paired = range of the per-round ratios; wall = the")
    w("same ratio on CLOCK_MONOTONIC; Ir = instructions executed in the kernel under callgrind")
    w("")
    hdr = (f"{'kernel':<12} {'plain s':>7} {'instr s':>7} {'ratio':>6} {'paired':>9} "
           f"{'wall':>5} {'target':>6} {'ok':>3} {'Ir':>6}  vectorized loops, plain = instr?")
    w(hdr)
    w("-" * len(hdr))
    ratios = {}

    def row(k):
        t = times[k.name]
        if not t["plain"] or not t["instr"]:
            w(f"{k.name:<12} {'failed':>7}")
            return
        mp, mi = median(t["plain"]), median(t["instr"])
        ratio = mi / mp
        ratios[k.name] = ratio
        paired = [i / p for p, i in zip(t["plain"], t["instr"])]
        wall = median(t["instr_wall"]) / median(t["plain_wall"])
        c = counts.get(k.name, {})
        ir = f"{c['instr'] / c['plain']:.3f}" if c.get("plain") and c.get("instr") else "-"
        vp, vi = built[k.name]["vec_plain"], built[k.name]["vec_instr"]
        if vp == vi:
            vec = f"same ({len(vp)})"
        else:
            vec = f"DIFFERENT: lost {len(vp - vi)}, gained {len(vi - vp)}"
        w(f"{k.name:<12} {mp:7.3f} {mi:7.3f} {ratio:6.3f} {fmt_range(paired):>9} {wall:5.2f} "
          f"{'<=' + format(k.target, '.2f'):>6} {verdict(ratio <= k.target):>3} {ir:>6}  {vec}")

    for k in KERNELS:
        if k.group == "kernel":
            row(k)
    kr = [ratios[k.name] for k in KERNELS if k.group == "kernel" and k.name in ratios]
    gm = geomean(kr)
    if kr:
        gw = geomean([median(times[k.name]["instr_wall"]) / median(times[k.name]["plain_wall"])
                      for k in KERNELS if k.group == "kernel" and k.name in ratios])
        w(f"{'geomean':<12} {'':>7} {'':>7} {gm:6.3f} {'':>9} {gw:5.2f} "
          f"{'<=' + format(GEOMEAN_TARGET, '.2f'):>6} {verdict(gm <= GEOMEAN_TARGET):>3}"
          f"         over {len(kr)} kernels")
    if any(k.group == "alloc" for k in KERNELS):
        w("")
        w("allocator: plain = glibc malloc, instrumented = the autockpt arena (and the polls)")
        w(hdr)
        w("-" * len(hdr))
        for k in KERNELS:
            if k.group == "alloc":
                row(k)
    w("")

    if sizes:
        w("code size: bytes of .text* (size -A); kernel = the kernel's source compiled alone (-c),")
        w("program = the linked executable; runtime = the instrumented program's code outside the kernel")
        hdr2 = (f"{'kernel':<12} {'plain':>7} {'instr':>7} {'ratio':>6} {'target':>6} {'ok':>3}"
                f"  {'program plain':>13} {'instr':>8}  runtime share")
        w(hdr2)
        w("-" * len(hdr2))
        rs = []
        for k in KERNELS:
            e = sizes.get(k.name)
            if not e:
                continue
            r = e["obj_instr"] / e["obj_plain"]
            rs.append(r)
            rt = (e["exe_instr"] - e["obj_instr"]) / e["exe_instr"]
            w(f"{k.name:<12} {e['obj_plain']:7d} {e['obj_instr']:7d} {r:6.2f} {'<=' + format(TEXT_TARGET, '.2f'):>6}"
              f" {verdict(r <= TEXT_TARGET):>3}  {e['exe_plain']:13d} {e['exe_instr']:8d}  {rt:.0%}")
        gm2 = geomean(rs)
        w(f"{'geomean':<12} {'':>7} {'':>7} {gm2:6.2f}")
        w("")

    if img is None and lat is None:
        w("(checkpoint image and latency: skipped with --only)")
    elif img and img.get("ckpt_ms") and img.get("dd_s"):
        mb = 1e6
        ck = [b / (ms / 1e3) / mb for b, ms in zip(img["ckpt_bytes"], img["ckpt_ms"])]
        dd = [b / s / mb for b, s in zip(img["dd_bytes"], img["dd_s"])]
        ratio_w = median(ck) / median(dd)
        size = median(img["ckpt_bytes"])
        w(f"checkpoint image: {img['mib']} MiB heap -> {size / 2**20:.0f} MiB image, "
          f"{len(img['ckpt_ms'])} rounds, interleaved with the reference")
        w(f"  write (durable)  checkpoint {median(img['ckpt_ms']) / 1e3:6.2f} s = {median(ck):5.0f} MB/s"
          f"   dd if=/dev/zero bs=8M conv=fsync {median(img['dd_s']):5.2f} s = {median(dd):5.0f} MB/s")
        w(f"                   ratio {ratio_w:.2f} (target >= {WRITE_TARGET:.2f}) "
          f"{verdict(ratio_w >= WRITE_TARGET)}   [per round: checkpoint "
          f"{' '.join(f'{x:.0f}' for x in ck)}, dd {' '.join(f'{x:.0f}' for x in dd)} MB/s]")
        if img.get("dd_direct_bps"):
            w(f"                   [reference: dd oflag=direct conv=fsync "
              f"{median(img['dd_direct_bps']) / mb:.0f} MB/s, bypassing the page cache]")
        if img.get("restart_cold") and img.get("cat_cold"):
            rr = median(img["restart_cold"]) / median(img["cat_cold"])
            w(f"  restart (cold)   exec -> first line {median(img['restart_cold']):5.2f} s"
              f"   cat image >/dev/null {median(img['cat_cold']):5.2f} s   ratio {rr:.2f} "
              f"(target <= {RESTART_TARGET:.2f}) {verdict(rr <= RESTART_TARGET)}")
            if img.get("eager_floor"):
                w(f"                   [reference: one cold pread pass into fresh memory "
                  f"(readref) {median(img['eager_floor']):.2f} s = "
                  f"{median(img['eager_floor']) / median(img['cat_cold']):.2f} x cat]")
        if img.get("restart_warm") and img.get("cat_warm"):
            w(f"  restart (warm)   exec -> first line {median(img['restart_warm']):5.2f} s"
              f"   cat {median(img['cat_warm']):5.2f} s   (page cache hot, for reference)")
        if "end_to_end" in img:
            w(f"  resumed run ends with the plain build's output: {verdict(img['end_to_end'])}")
    elif img is not None:
        w("checkpoint image: not measured (see errors)")
    if img is not None:
        w("")
    if lat and lat.get("poll_ms"):
        pm = lat["poll_ms"]
        w(f"latency in loop code ({len(pm)} SIGUSR1 at random moments; CLOCK_MONOTONIC; "
          f"verdict on the median, the max includes scheduling delays):")
        w(f"  request -> first poll sees it    median {median(pm):6.3f} ms  max {max(pm):6.3f} ms"
          f"   target <= {LATENCY_TARGET_MS:.0f} ms {verdict(median(pm) <= LATENCY_TARGET_MS)}")
        cm = lat["cpu_ms"]
        w(f"  the same in the program's CPU time median {median(cm):6.3f} ms  max {max(cm):6.3f} ms"
          f"   (<=; without time spent preempted)")
        hm = lat["header_ms"]
        w(f"  request -> image begun (header)  median {median(hm):6.3f} ms  max {max(hm):6.3f} ms"
          f"   (+ unwinding, metadata, generation directory)")
    elif lat is not None:
        w("latency: not measured (see errors)")
    w("")
    checks = sum(len(times[k.name]["plain"]) + len(times[k.name]["instr"]) for k in KERNELS)
    bad = [e for e in errors if "CHECKSUM" in e]
    w(f"correctness: {checks} kernel runs, checksums "
      f"{'identical in both builds' if not bad else 'DIFFER (see errors)'}")
    if errors:
        w("")
        w(f"ERRORS ({len(errors)}):")
        for e in errors:
            w("  " + e)
    return "\n".join(out), {"ratios": ratios, "geomean": gm}


# ---- The peers' programs: image sizes next to CRIU's -------------------------------------------

PEER_DIR = os.path.join(ROOT, "bench", "peers")
# name, arguments, the line after which SIGUSR1 is sent, CRIU's image in MiB (peers/README.md)
PEERS = [("stencil", ["4096", "550"], "iter ", 256.1),
         ("tree", ["3000000", "24"], "round 1 ", 145.7),
         ("count", ["50"], "1 ", 0.12)]


def peer_images(tc, work, errors, compress=("none", "zstd")):
    """Builds the peers' programs instrumented, checkpoints each once (SIGUSR1 after a given
    line; it then exits 75) and returns {name: {mode: {"bytes", "ms"}}} per mode: "none",
    "zstd" (AUTOCKPT_COMPRESS=zstd at its level) or "zstd-N" (level N)."""
    bindir = os.path.join(work, "peers")
    os.makedirs(bindir, exist_ok=True)
    res = {}
    for name, args, after, _ in PEERS:
        prog = os.path.join(bindir, name)
        r = sh(tc.command([os.path.join(PEER_DIR, name + ".c")], prog, False, True))
        if r.returncode != 0:
            errors.append(f"peer {name}: build failed: {r.stderr[-300:]}")
            continue
        for mode in compress:
            ckdir = os.path.join(work, "peer-ckpt")
            shutil.rmtree(ckdir, ignore_errors=True)
            settle()
            # In place (not in the background): the time is the whole durable write.
            env = dict(os.environ, AUTOCKPT_DIR=ckdir, AUTOCKPT_RESTART="never",
                       AUTOCKPT_VERBOSE="1", AUTOCKPT_COMPRESS=mode.partition("-")[0],
                       AUTOCKPT_ASYNC="no")
            if "-" in mode:  # zstd-N, N may be negative
                env["AUTOCKPT__ZSTD_LEVEL"] = mode.partition("-")[2]
            errf = tempfile.TemporaryFile()
            p = subprocess.Popen([prog] + args, stdout=subprocess.PIPE, stderr=errf, env=env)
            while True:
                line = read_line(p, 300)
                if line is None or line.startswith(after):
                    break
            if line is None:
                p.kill()
                p.wait()
                errors.append(f"peer {name}: no line {after!r}")
                continue
            p.send_signal(signal.SIGUSR1)
            p.stdout.read()
            rc = p.wait()
            errf.seek(0)
            err = errf.read().decode()
            m = CKPT_LOG.search(err)
            path = image_file(ckdir)
            if rc != 75 or not m or not path:
                errors.append(f"peer {name} ({mode}): checkpoint failed: exit {rc}, {err[-300:]!r}")
                continue
            res.setdefault(name, {})[mode] = {"bytes": os.path.getsize(path),
                                              "ms": int(m.group(2))}
            shutil.rmtree(ckdir, ignore_errors=True)
    return res


def render_peers(peers):
    """The image-size rows, next to CRIU's, and what compression does to size and time."""
    out = ["peers' programs (bench/peers/): image size, one checkpoint after a given line",
           f"{'program':<9} {'arguments':<12} {'autockpt':>10} {'CRIU':>10} {'ratio':>6}"]
    for name, args, _, criu in PEERS:
        r = peers.get(name, {}).get("none")
        if not r:
            out.append(f"{name:<9} {' '.join(args):<12} {'failed':>10}")
            continue
        mib = r["bytes"] / 2**20
        out.append(f"{name:<9} {' '.join(args):<12} {mib:9.2f}M {criu:9.2f}M {mib / criu:6.2f}")
    modes = sorted({m for r in peers.values() for m in r if m != "none"})
    if modes:
        out.append("compression: image size / uncompressed, and the whole durable checkpoint's "
                   "time (ms, write + fsync; uncompressed bytes per second)")
        out.append(f"{'program':<9} {'none ms':>8} " +
                   " ".join(f"{m + ' size':>11} {m + ' ms':>10}" for m in modes))
        for name, _, _, _ in PEERS:
            r = peers.get(name, {})
            if "none" not in r:
                continue
            base = r["none"]
            mbs = base["bytes"] / 1e6 / max(base["ms"] / 1e3, 1e-3)
            row = f"{name:<9} {base['ms']:8d} "
            for m in modes:
                if m in r:
                    z = r[m]
                    row += (f"{z['bytes'] / base['bytes']:11.3f} {z['ms']:6d} "
                            f"{base['bytes'] / 1e6 / max(z['ms'] / 1e3, 1e-3):4.0f}M/s ")
                else:
                    row += f"{'failed':>11} {'':>10} "
            out.append(row + f"  (none: {mbs:.0f} MB/s)")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="about 1.5 minutes: 3 rounds, half-length kernels, 256 MiB image, no callgrind")
    ap.add_argument("--rounds", type=int, help="interleaved rounds of the kernels (default 7, quick 3)")
    ap.add_argument("--config", default=os.path.join(ROOT, "build", "bin", "autockpt-config"),
                    help="autockpt-config of the build to measure (default: build/ of this tree)")
    ap.add_argument("--workdir", help="where binaries and checkpoints go (default: a new "
                    "directory in $TMPDIR, removed afterwards); images are written here, so it "
                    "decides which disk the write and restart figures describe")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--image-mib", type=int, help="heap of the image benchmark (default 1024, quick 256)")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--cpus", help="CPUs the kernel pairs are pinned to, in turn by round "
                    "(default: every CPU this process may run on)")
    ap.add_argument("--only", help="comma-separated kernel names (skips image and latency)")
    ap.add_argument("--json", help="also write the raw figures to this file")
    ap.add_argument("--images", action="store_true",
                    help="only the image sizes of the peers' programs (bench/peers/), next to "
                    "CRIU's, and the incremental images (bench/incremental.py)")
    ap.add_argument("--zstd-levels", help="with --images: also these zstd levels (e.g. 1,3,6)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel compiles (default 2)")
    a = ap.parse_args()

    rounds = a.rounds or (3 if a.quick else 7)
    reps_scale = 0.5 if a.quick else 1.0
    mib = a.image_mib or (256 if a.quick else 1024)
    global KERNELS
    if a.only:
        names = set(a.only.split(","))
        KERNELS = [k for k in KERNELS if k.name in names]
        if not KERNELS:
            sys.exit("run.py: --only matched no kernel")

    tc = Toolchain(a.config)
    work = a.workdir or tempfile.mkdtemp(prefix="autockpt-bench-")
    os.makedirs(work, exist_ok=True)
    errors = []
    if a.images:
        try:
            modes = ["none", "zstd"] + [f"zstd-{l}" for l in
                                        (a.zstd_levels.split(",") if a.zstd_levels else [])]
            peers = peer_images(tc, work, errors, modes)
            print(render_peers(peers))
            # Incremental checkpoints: bytes per checkpoint against the full image (R24).
            incr = incrbench.measure(incrbench.build(tc, work), work, a.image_mib or 1024, 5, 3,
                                     errors, say=log)
            print("\n" + incrbench.render(incr))
            for e in errors:
                print("ERROR: " + e)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump({"peers": peers, "incremental": incr, "errors": errors}, f,
                              indent=1)
        finally:
            if not a.keep and a.workdir is None:
                shutil.rmtree(work, ignore_errors=True)
        return 1 if errors else 0
    t_start = time.monotonic()
    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "git": sh(["git", "-C", ROOT, "describe", "--always", "--dirty"]).stdout.strip() or "?",
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                     if l.startswith("model name")), platform.processor()),
        "ncpu": os.cpu_count(),
        "clang": sh([tc.cc, "--version"]).stdout.split("\n")[0].split("version")[-1].strip(),
        "rounds": rounds, "reps_scale": reps_scale,
        "load_start": "%.1f" % os.getloadavg()[0],
        "cpus": [int(c) for c in a.cpus.split(",")] if a.cpus else sorted(os.sched_getaffinity(0)),
    }
    try:
        built = build_all(tc, work, a.jobs)
        times = run_kernels(built, work, rounds, reps_scale, errors, meta["cpus"])
        counts = {} if (a.quick or a.no_callgrind) else callgrind_counts(built, work, errors)
        img = lat = None
        peers = {}
        stop = None
        if not a.only:
            img = image_bench(built, work, mib, 2 if a.quick else 4, not a.quick, errors)
            lat = latency_bench(built, work, 5 if a.quick else 10, errors)
            peers = peer_images(tc, work, errors)
            # The stop per checkpoint and the periodic cost, sync against async (bench/stop.py).
            stop_iters = 150 if a.quick else 300
            stop = stopbench.measure(stopbench.build(tc, work), work, 2 if a.quick else 3,
                                     stop_iters, 2.0, errors, say=log)
        meta["load_end"] = "%.1f" % os.getloadavg()[0]
        sizes = code_sizes(tc, built, work)
        table, summary = render(meta, built, times, counts, img, lat, errors, sizes)
        print(table)
        if peers:
            print(render_peers(peers))
        if stop:
            print("\n" + stopbench.render(stop, stop_iters, 2.0))
        removed = not a.keep and a.workdir is None
        print(f"\n(total {time.monotonic() - t_start:.0f} s; work directory {work}"
              f"{', removed' if removed else ''})")
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"meta": meta, "times": times, "callgrind": counts, "image": img,
                           "peers": peers, "stop": stop,
                           "latency": lat, "errors": errors, "summary": summary,
                           "code_size": sizes}, f, indent=1)
    finally:
        if not a.keep and a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if any("CHECKSUM" in e or "failed" in e for e in errors) else 0


if __name__ == "__main__":
    sys.exit(main())
