"""What the side-by-side benchmarks under bench/ (threads/run.py, omp/run.py) share: running a
command, asking autockpt-config, the kernels' result line, the environment of a measured run and
the instructions callgrind counts in bench_kernel*."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["-O2", "-march=x86-64"]
BENCH_LINE = re.compile(r"^BENCH kernel=(\S+) seconds=([0-9.]+) cpu=([0-9.]+) checksum=(\S+)", re.M)
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def config(cfg, flag, who):
    r = sh([cfg, flag])
    if r.returncode != 0:
        sys.exit(f"{who}: {cfg} {flag} failed: {r.stderr.strip()}\n"
                 f"build autockpt first: cmake -S {ROOT} -B {ROOT}/build -G Ninja && "
                 f"ninja -C {ROOT}/build -j2")
    return r.stdout.strip()


def env_for(work, **extra):
    """A measured run's environment: no AUTOCKPT_ setting of the caller's, images in `work`,
    never a restart."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCKPT_")}
    env.update(AUTOCKPT_DIR=os.path.join(work, "ckpt"), AUTOCKPT_RESTART="never")
    env.update(extra)
    return env


def have_callgrind():
    return bool(shutil.which("valgrind") and shutil.which("setarch"))


def kernel_instructions(cmd, work, env, functions="bench_kernel*"):
    """(instructions executed in `functions` under callgrind, None) or (None, why)."""
    # setarch -R: the runtime would otherwise re-execute itself to turn address randomisation
    # off, and valgrind does not follow that.
    r = sh(["setarch", "-R", "valgrind", "--tool=callgrind", "--toggle-collect=" + functions,
            "--callgrind-out-file=" + os.path.join(work, "callgrind.out")] + cmd,
           env=env, timeout=900)
    hit = COLLECTED.search(r.stderr)
    if r.returncode != 0 or not hit:
        return None, f"exit {r.returncode}: {r.stderr[-300:]}"
    return int(hit.group(1)), None
