#!/usr/bin/env python3
"""Where does the instrumented build's time go?  For each kernel, takes the instrumented IR and
removes one kind of instrumentation after the other (cumulatively, by editing the IR text, then
opt + llc), and measures each step beside the plain build:

  instr        the plugin's output, compiled with llc (as run.py's instrumented build)
  -restore     no restore edges (the entry's `mode == RESTORING` test made false): the phis that
               merge reloaded values into loop headers disappear
  -polls       no loop or entry polls (the flag load made 0)
  -postcall    no checks after calls either: only the heap redirection is left

Each step is an upper bound of what removing or fixing that kind of code would save.  A
diagnostic for whoever works on passes/; run.py is the benchmark.

    python3 bench/attribution.py                  # matmul, recursion, stl_virtual, triad_l1
    python3 bench/attribution.py --only matmul --rounds 9
    python3 bench/attribution.py --only all --code   # where the code size goes (no runs)
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: kernels, toolchain, result parsing)

VARIANTS = ["instr", "-restore", "-polls", "-postcall"]

# The pass reads one thread-local state word (docs/design.md P13, H2): the flag is its low half
# (`load volatile i32, ptr %tls`), the mode its high half (`load i32` through a GEP of 4), and an
# entry that polls loads the whole word (`load volatile i64`).
TLS = re.compile(r"^\s*(%[\w.]+) = (?:tail )?call align 8 ptr @llvm\.threadlocal\.address\.p0\(ptr align 8 @__autockpt_state\)", re.M)


def _tls_names(ir):
    return set(TLS.findall(ir))


def _mode_loads(ir):
    """Names of the loads of the mode: `%m = load i32, ptr %p` with %p = GEP 4 of the state word."""
    tls = _tls_names(ir)
    geps = set()
    for m in re.finditer(r"^\s*(%[\w.]+) = getelementptr inbounds i8, ptr (%[\w.]+), i64 4$", ir, re.M):
        if m.group(2) in tls:
            geps.add(m.group(1))
    loads = set()
    for m in re.finditer(r"^\s*(%[\w.]+) = load i32, ptr (%[\w.]+), align 4", ir, re.M):
        if m.group(2) in geps:
            loads.add(m.group(1))
    return loads


def edit_no_restore(ir):
    """`icmp eq i32 %mode, 2` (RESTORING) -> false: no restore edges are left."""
    modes = _mode_loads(ir)
    def sub(m):
        return m.group(0).replace(f"icmp eq i32 {m.group(2)}, 2", "icmp eq i32 0, 2") \
            if m.group(2) in modes else m.group(0)
    return re.sub(r"^(\s*%[\w.]+) = icmp eq i32 (%[\w.]+), 2$", sub, ir, flags=re.M)


def edit_no_polls(ir):
    """The flag (and the whole word at a polling entry) read as 0."""
    tls = _tls_names(ir)
    def sub(m):
        return f"{m.group(1)} = add {m.group(2)} 0, 0" if m.group(3) in tls else m.group(0)
    return re.sub(r"^(\s*%[\w.]+) = load volatile (i32|i64), ptr (%[\w.]+), align 8$", sub, ir,
                  flags=re.M)


def edit_no_postcall(ir):
    """The mode read as 0 (running): no check after calls either."""
    modes = _mode_loads(ir)
    def sub(m):
        return f"{m.group(1)} = add i32 0, 0" if m.group(1).strip() in modes else m.group(0)
    return re.sub(r"^(\s*%[\w.]+) = load i32, ptr (%[\w.]+), align 4$", sub, ir, flags=re.M)


def tools(tc):
    bindir = os.path.dirname(os.path.realpath(shutil.which(tc.cc) or tc.cc))
    llc, opt = os.path.join(bindir, "llc"), os.path.join(bindir, "opt")
    for t in (llc, opt):
        if not os.path.exists(t):
            sys.exit(f"attribution.py: {t} not found (it comes with the LLVM of {tc.cc})")
    return llc, opt


def check(r, what):
    if r.returncode != 0:
        sys.exit(f"attribution.py: {what} failed:\n{r.stderr[-2000:]}")


def build(tc, k, work):
    """Returns {variant: binary} for kernel k, plus "plain"."""
    llc, opt = tools(tc)
    src = os.path.join(run.KDIR, k.source)
    cc = tc.cxx if k.cxx else tc.cc
    lang = run.CXXFLAGS if k.cxx else []
    base = os.path.join(work, k.name)
    out = {}

    def compile_ir(ll, name, instrumented):
        obj = f"{base}.{name}.o"
        exe = f"{base}.{name}"
        check(run.sh([llc, "-O2", "-mcpu=x86-64", "-relocation-model=pic", "-filetype=obj", ll,
                      "-o", obj]), f"llc {ll}")
        check(run.sh([cc, obj, "-o", exe] + (tc.ldflags if instrumented else ["-lm"])), f"link {exe}")
        out[name] = exe

    plain_ll, instr_ll = base + ".plain.ll", base + ".instr.ll"
    check(run.sh([cc] + run.FLAGS + lang + ["-S", "-emit-llvm", src, "-o", plain_ll]), "clang")
    check(run.sh([cc] + run.FLAGS + lang + [f"-fpass-plugin={tc.plugin}", "-S", "-emit-llvm", src,
                                             "-o", instr_ll]), "clang + plugin")
    compile_ir(plain_ll, "plain", False)
    compile_ir(instr_ll, "instr", True)
    ir = open(instr_ll).read()
    for name, edit in (("-restore", edit_no_restore),
                       ("-polls", edit_no_polls), ("-postcall", edit_no_postcall)):
        ir = edit(ir)
        raw, ll = f"{base}.{name}.raw.ll", f"{base}.{name}.ll"
        with open(raw, "w") as f:
            f.write(ir)
        check(run.sh([opt, "-passes=instsimplify,simplifycfg,instsimplify", "-S", raw, "-o", ll]),
              f"opt {raw}")
        ir = open(ll).read()
        compile_ir(ll, name, True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="matmul,recursion,stl_virtual,triad_l1",
                    help="comma-separated kernels (default: %(default)s; 'all' for every one)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--config", default=os.path.join(run.ROOT, "build", "bin", "autockpt-config"))
    ap.add_argument("--callgrind", action="store_true", help="also count instructions")
    ap.add_argument("--code", action="store_true",
                    help="only the code size of each step (bytes of .text* of the kernel's object)")
    a = ap.parse_args()
    names = None if a.only == "all" else set(a.only.split(","))
    kernels = [k for k in run.KERNELS if names is None or k.name in names]
    if not kernels:
        sys.exit("attribution.py: --only matched no kernel")
    tc = run.Toolchain(a.config)
    work = tempfile.mkdtemp(prefix="autockpt-attr-")
    try:
        bins = {k.name: build(tc, k, work) for k in kernels}
        modes = ["plain"] + VARIANTS
        if a.code:
            print("code of the kernel's object (bytes of .text*, size -A), as a ratio to the plain "
                  "build (cumulative: each column also has the edits to its left)")
            print(f"{'kernel':<12} {'plain B':>8}" + "".join(f" {m:>11}" for m in VARIANTS))
            for k in kernels:
                size = {m: run.text_bytes(bins[k.name][m] + ".o") for m in modes}
                print(f"{k.name:<12} {size['plain']:8d}" +
                      "".join(f" {size[m] / size['plain']:11.2f}" for m in VARIANTS))
            return
        times = {k.name: {m: [] for m in modes} for k in kernels}
        sums = {k.name: set() for k in kernels}
        for rnd in range(a.rounds):
            for k in kernels:
                for m in (modes if rnd % 2 == 0 else modes[::-1]):
                    res, err = run.run_kernel(bins[k.name][m], [], run.kernel_env(work, k.name))
                    if err:
                        sys.exit(f"attribution.py: {k.name} {m}: {err}")
                    times[k.name][m].append(res[0])
                    sums[k.name].add(res[2])
            run.log(f"round {rnd + 1}/{a.rounds}")
        irs = {}
        if a.callgrind:
            for k in kernels:
                irs[k.name] = {}
                for m in modes:
                    r = run.sh(["setarch", os.uname().machine, "-R", "valgrind", "--tool=callgrind",
                                "--toggle-collect=bench_kernel*", "--callgrind-out-file=/dev/null",
                                bins[k.name][m]] + k.callgrind_args, env=run.kernel_env(work, k.name))
                    c = run.COLLECTED.findall(r.stderr)
                    irs[k.name][m] = sum(int(x) for x in c) if c else None
        print(f"CPU time of the kernel, median of {a.rounds} interleaved rounds, as a ratio to the "
              f"plain build (cumulative: each column also has the edits to its left)")
        print(f"{'kernel':<12} {'plain s':>8}" + "".join(f" {m:>11}" for m in VARIANTS))
        for k in kernels:
            t = times[k.name]
            p = statistics.median(t["plain"])
            print(f"{k.name:<12} {p:8.3f}" +
                  "".join(f" {statistics.median(t[m]) / p:11.3f}" for m in VARIANTS) +
                  ("" if len(sums[k.name]) == 1 else "   CHECKSUMS DIFFER"))
            if k.name in irs and irs[k.name].get("plain"):
                ip = irs[k.name]["plain"]
                print(f"{'  Ir ratio':<12} {'':>8}" + "".join(
                    f" {irs[k.name][m] / ip:11.3f}" if irs[k.name][m] else f" {'-':>11}"
                    for m in VARIANTS))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
