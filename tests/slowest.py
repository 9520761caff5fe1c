#!/usr/bin/env python3
"""Prints the slowest tests of a `./setup.sh test` run from the JUnit XML files that ctest
(--output-junit) and lit (--xunit-xml-output) write, then one line "tests: N passed, M failed"
(skipped ones too, if any) over every test case in them; files that do not exist are skipped.

    slowest.py [-n 10] RESULTS.xml...
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET


def cases(path):
    """(seconds, name, outcome) of every test case in one JUnit XML file."""
    label = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(path))))
    for case in ET.parse(path).getroot().iter("testcase"):
        try:
            seconds = float(case.get("time", "0"))
        except ValueError:
            continue
        group = case.get("classname", "")
        name = case.get("name", "?")
        skipped = case.find("skipped")
        outcome = ("failed" if case.find("failure") is not None or case.find("error") is not None
                   else "passed" if skipped is None
                   else "not selected" if "not selected" in skipped.get("message", "")
                   else "skipped")
        yield seconds, "%s: %s" % (label, "%s/%s" % (group, name) if group else name), outcome


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=10)
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    found = []
    for f in args.files:
        if os.path.exists(f):
            found += list(cases(f))
    if not found:
        print("slowest.py: no test results in %s" % " ".join(args.files))
        return 0
    print("The %d slowest tests:" % min(args.n, len(found)))
    for seconds, name, _ in sorted(found, reverse=True)[:args.n]:
        print("  %7.1f s  %s" % (seconds, name))
    count = {o: sum(1 for c in found if c[2] == o)
             for o in ("passed", "failed", "skipped", "not selected")}
    # "not selected": left out on purpose (setup.sh's LIT_FILTER_OUT for LLVM 22), not skipped.
    print("tests: %d passed, %d failed%s%s" % (
        count["passed"], count["failed"],
        ", %d skipped" % count["skipped"] if count["skipped"] else "",
        ", %d not selected" % count["not selected"] if count["not selected"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
