#!/bin/sh
# Runs the image fuzzer (image_fuzz.cpp) on a scratch copy of the seed corpus, so that the
# inputs it finds never land in the source tree; a crash leaves crash-<sha1> (the input) in the
# current directory.  libFuzzer's options follow the fuzzer's path:
#
#   tests/fuzz/run.sh build/tests/fuzz/image_fuzz -max_total_time=600   # 10 minutes, by hand
#   tests/fuzz/run.sh build/tests/fuzz/image_fuzz -runs=20000 -seed=1   # what ctest runs
set -eu
fuzzer=$1
shift
corpus=$(cd "$(dirname "$0")" && pwd)/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/autockpt-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp "$corpus"/* "$work/"
"$fuzzer" -print_final_stats=1 "$@" "$work"
