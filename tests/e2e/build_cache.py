"""The test programs' builds, cached across the tests of one build directory.

Most end-to-end tests compile a small program twice (plain and instrumented) and the compiles are
most of the suite's CPU time; many tests build the same program with the same flags (count.c at
-O2 alone, twenty times).  A build here is one compiler command with `-o OUTPUT`; its output is
kept under BUILD/e2e-builds/KEY, where KEY hashes

  - the command, with the test's own work directory written as <work> (it differs every run),
  - the compiler (its resolved path, size and modification time),
  - every input named on the command line: the contents of files in the work directory (objects
    an earlier command of the same test made), size and modification time of the others, and of
    every file beside them (a source's own headers),
  - the files of each -I directory (recursively), each -L directory, and the pass and clang
    plugins (-fpass-plugin=, -fplugin=): a rebuilt runtime or pass is a new key.

A later identical command copies the output instead of compiling.  Only a complete output is
stored (written aside, then renamed into place), so tests running at once may race harmlessly.
"""

import hashlib
import os
import shutil
import tempfile
import time

KEEP_DAYS = 3  # entries not used for this long are removed when a new one is stored


def _stat(h, path):
    try:
        st = os.stat(path)
        h.update(("%s %d %d\n" % (path, st.st_size, st.st_mtime_ns)).encode())
    except OSError:
        h.update(("%s missing\n" % path).encode())


def _dir_files(h, d, recursive):
    for root, dirs, files in os.walk(d):
        dirs.sort()
        for f in sorted(files):
            _stat(h, os.path.join(root, f))
        if not recursive:
            break


def key(cmd, work):
    """The key of a build: see above; None when cmd names no -o output."""
    if "-o" not in cmd:
        return None
    work = os.path.abspath(work)
    h = hashlib.sha256()
    h.update(repr([a.replace(work, "<work>") for a in cmd]).encode())
    compiler = shutil.which(cmd[0])
    _stat(h, os.path.realpath(compiler) if compiler else cmd[0])
    beside = set()
    prev = ""
    for a in cmd[1:]:
        if prev == "-o":
            pass
        elif a.startswith(("-fpass-plugin=", "-fplugin=")):
            _stat(h, a.split("=", 1)[1])
        elif a.startswith("-I") and len(a) > 2:
            _dir_files(h, a[2:], recursive=True)
        elif prev in ("-I", "-isystem"):
            _dir_files(h, a, recursive=True)
        elif a.startswith("-L") and len(a) > 2:
            _dir_files(h, a[2:], recursive=False)
        elif not a.startswith("-") and os.path.isfile(a):
            path = os.path.abspath(a)
            if path.startswith(work + os.sep):
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
            else:
                beside.add(os.path.dirname(path))
        prev = a
    for d in sorted(beside):
        _dir_files(h, d, recursive=False)
    return h.hexdigest()[:32]


def cache_dir(config):
    """BUILD/e2e-builds for the autockpt-config at BUILD/bin/autockpt-config."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(config))), "e2e-builds")


def fetch(cache, key, cmd):
    """Copies the cached output of cmd to its -o path; returns whether it was there."""
    if key is None:
        return False
    entry = os.path.join(cache, key)
    try:
        shutil.copy2(os.path.join(entry, "output"), cmd[cmd.index("-o") + 1])
        os.utime(entry)
    except OSError:
        return False
    return True


def store(cache, key, cmd):
    """Keeps the output of cmd, just built, for later builds with the same key."""
    if key is None:
        return
    os.makedirs(cache, exist_ok=True)
    now = time.time()
    for old in os.listdir(cache):
        path = os.path.join(cache, old)
        try:
            if now - os.stat(path).st_mtime > KEEP_DAYS * 86400:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
    tmp = tempfile.mkdtemp(prefix=".new-", dir=cache)
    try:
        shutil.copy2(cmd[cmd.index("-o") + 1], os.path.join(tmp, "output"))
        os.rename(tmp, os.path.join(cache, key))
    except OSError:  # another test stored it first
        shutil.rmtree(tmp, ignore_errors=True)
