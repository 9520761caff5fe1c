"""Checks of build_cache.py's key (docs/design.md E4): a test that ran an old binary because the
key missed an input would prove nothing, so every input the key promises to cover changes it,
and what must not matter (the test's own work directory, a touch of a work file) does not.
Run by lit (Tools/build-cache.test) or by hand: python3 tests/e2e/test_build_cache.py"""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_cache  # noqa: E402


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def edit(path, text):
    """Rewrites path with a newer modification time even on a coarse clock."""
    st = os.stat(path)
    write(path, text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


class KeyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.tmp.name
        self.src = os.path.join(t, "src", "prog.c")
        write(self.src, "#include \"prog.h\"\nint main(void) { return 0; }\n")
        write(os.path.join(t, "src", "prog.h"), "#define N 1\n")
        write(os.path.join(t, "inc", "sub", "deep.h"), "#define D 1\n")
        self.plugin = os.path.join(t, "lib", "libpass.so")
        write(self.plugin, "pass v1")
        self.work = os.path.join(t, "work-1")
        os.makedirs(self.work)
        self.obj = os.path.join(self.work, "other.o")
        write(self.obj, "object v1")

    def tearDown(self):
        self.tmp.cleanup()

    def cmd(self, work=None):
        work = work or self.work
        return ["cc", "-O2", "-I" + os.path.join(self.tmp.name, "inc"),
                "-fpass-plugin=" + self.plugin, self.src, os.path.join(work, "other.o"),
                "-o", os.path.join(work, "prog")]

    def key(self, work=None):
        return build_cache.key(self.cmd(work), work or self.work)

    def test_same_inputs_same_key(self):
        self.assertEqual(self.key(), self.key())

    def test_work_directory_does_not_matter(self):
        other = os.path.join(self.tmp.name, "work-2")
        os.makedirs(other)
        write(os.path.join(other, "other.o"), "object v1")
        self.assertEqual(self.key(), self.key(other))

    def test_each_input_changes_the_key(self):
        t = self.tmp.name
        for path in [self.src, os.path.join(t, "src", "prog.h"),
                     os.path.join(t, "inc", "sub", "deep.h"), self.plugin]:
            with self.subTest(path=os.path.relpath(path, t)):
                before = self.key()
                edit(path, "changed " + path)
                self.assertNotEqual(before, self.key())

    def test_a_new_header_beside_the_source_changes_the_key(self):
        before = self.key()
        write(os.path.join(self.tmp.name, "src", "new.h"), "#define M 2\n")
        self.assertNotEqual(before, self.key())

    def test_work_files_by_content(self):
        before = self.key()
        os.utime(self.obj, ns=(0, time.time_ns() + 5_000_000_000))  # touched, same bytes
        self.assertEqual(before, self.key())
        edit(self.obj, "object v2")
        self.assertNotEqual(before, self.key())

    def test_flags_change_the_key(self):
        c = self.cmd()
        self.assertNotEqual(build_cache.key(c, self.work),
                            build_cache.key(c[:1] + ["-DX=1"] + c[1:], self.work))

    def test_no_output_no_key(self):
        self.assertIsNone(build_cache.key(["cc", "-c", self.src], self.work))

    def test_store_then_fetch(self):
        cache = os.path.join(self.tmp.name, "cache")
        c = self.cmd()
        k = self.key()
        self.assertFalse(build_cache.fetch(cache, k, c))
        write(c[-1], "binary v1")
        build_cache.store(cache, k, c)
        os.remove(c[-1])
        self.assertTrue(build_cache.fetch(cache, k, c))
        with open(c[-1]) as f:
            self.assertEqual(f.read(), "binary v1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
