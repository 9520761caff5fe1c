#!/bin/bash
# One command from a fresh Debian 12 machine to a working autockpt: installs the packages that
# are missing (apt, as root), builds, then runs the demo or every test.  What is built and tested
# is left to CMake and ctest.
#
#   ./setup.sh demo   install, build (LLVM 19), run examples/demo.sh
#   ./setup.sh test   install, build for LLVM 19 (build/) and LLVM 22 (build-22/), run every test
#                     (unit, lit, end-to-end, Slurm) against LLVM 19 with ctest and, beside it,
#                     the lit tests against LLVM 22; then print the ten slowest tests
#   ./setup.sh build  install and build only
#
# JOBS (default 2) sets the build's parallelism.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(clang-19 llvm-19-dev libclang-19-dev llvm-19-tools libboost-serialization-dev
          libgtest-dev libgmock-dev libxxhash-dev libzstd-dev zstd ccache cmake ninja-build
          python3 python3-psutil git file binutils gcc make pkg-config libclang-rt-19-dev zlib1g-dev)
# What the parallel and legacy tests need (OpenMP, both MPI families, Fortran): test and build.
PACKAGES_PARALLEL=(libomp-19-dev openmpi-bin libopenmpi-dev mpich libmpich-dev flang-19)
# The Slurm tests' one-node cluster (tests/slurm/cluster.sh): installed before the tests start, so
# that lit, which decides at its start which tests can run, does not skip the MPI job under Slurm
# (on a fresh machine the first Slurm test used to install them, after lit had looked).
PACKAGES_SLURM=(slurmctld slurmd slurm-client munge)
PACKAGES_22=(clang-22 llvm-22-dev llvm-22-tools libclang-22-dev flang-22)   # from bookworm-security
JOBS=${JOBS:-2}
updated=no

say() { printf '\n=== %s\n' "$*"; }

# (No `cmd | grep -q` here: with pipefail, grep's early exit can fail the pipeline.)
missing() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == *" installed" ]] || echo "$p"
  done
}

# apt-get update (once, and only when something is missing) and install what is missing.
install() {
  local need
  mapfile -t need < <(missing "$@")
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing packages: ${need[*]}; run as root, or install them and run again" >&2
    exit 1
  fi
  say "Installing ${need[*]}"
  if [ $updated = no ]; then
    apt-get update
    updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=900 \
    --no-install-recommends "${need[@]}"
}

# Whether apt can install every package named (a candidate version exists).
available() {
  local p policy
  for p in "$@"; do
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    [[ $policy =~ Candidate:\ [0-9] ]] || return 1
  done
}

build() {  # build DIR [CMAKE ARGS...]
  local dir=$1
  shift
  say "Building $dir $*"
  mkdir -p "$dir"
  # The system's Python runs lit and the test harnesses (its python3-psutil gives lit its per-test
  # timeout), not one a version manager put first in PATH.
  local python=()
  [ ! -x /usr/bin/python3 ] || python=(-DPython3_EXECUTABLE=/usr/bin/python3)
  cmake -S . -B "$dir" -G Ninja "${python[@]}" "$@" > "$dir/configure.log" 2>&1 || {
    cat "$dir/configure.log"
    exit 1
  }
  ninja -C "$dir" -j "$JOBS"
}

# CMake needs a host C and C++ compiler.  A fresh Debian has no g++: use the clang just installed.
host_compiler() {
  if [ -z "${CXX:-}" ] && ! command -v c++ > /dev/null; then
    export CC=clang-19 CXX=clang++-19
  fi
}

mode=${1:-}
case "$mode" in
  demo | build)
    install "${PACKAGES[@]}"
    [ "$mode" = demo ] || install "${PACKAGES_PARALLEL[@]}"
    host_compiler
    build build
    [ "$mode" = build ] || { say "Running examples/demo.sh"; examples/demo.sh build; }
    ;;
  test)
    start=$SECONDS
    install "${PACKAGES[@]}" "${PACKAGES_PARALLEL[@]}"
    [ "$(id -u)" -ne 0 ] || install "${PACKAGES_SLURM[@]}"   # its tests need root anyway
    llvm22=yes
    if [ -n "$(missing "${PACKAGES_22[@]}")" ]; then
      if [ $updated = no ] && [ "$(id -u)" -eq 0 ]; then
        apt-get update
        updated=yes
      fi
      if available "${PACKAGES_22[@]}"; then
        install "${PACKAGES_22[@]}"
      else
        llvm22=no
        echo "setup.sh: ${PACKAGES_22[*]} cannot be installed (bookworm-security is not in" \
             "the apt sources?): the LLVM 22 build and its tests are skipped" >&2
      fi
    fi
    host_compiler
    build build
    [ $llvm22 = no ] || build build-22 -DAUTOCKPT_LLVM_MAJOR=22
    # The LLVM 22 lit suite runs beside every LLVM 19 test: no test depends on timing, and much
    # of their time is spent waiting (programs halted for a kill, the Slurm walltime).
    # Against LLVM 22 the lit suite proves the pass and the clang plugin built for LLVM 22: the
    # tests of the runtime alone (its code is the same for both LLVMs) run against LLVM 19 only.
    # So the MPI layer is proved by ring.test alone under 22, and the heap, image, timer and
    # signal, background and incremental writer, and build-system tests are left out (they were a
    # quarter of its time and prove nothing new there), and so are the tests of the runtime's
    # file layer and of its thread and lock wrappers (Threads/ keeps async and pipeline: thread
    # entry points, C++ threads and their lambdas are the pass's work).
    filter22='EndToEnd/MPI/(halo|features|cart|refused|slurm)\.test'
    filter22+='|EndToEnd/(heap-sparse|heap-steady|cxx-heap|incremental|count|signal|full-disk)\.test'
    filter22+='|EndToEnd/Files/|EndToEnd/Core/heap\.test'
    filter22+='|EndToEnd/Threads/(cond-pool|spin-pool|churn|keys|recursive-mutex|stuck-read|thread-dtors|barrier)\.test'
    filter22+='|EndToEnd/(corrupt-[a-z-]+|truncated|untrusted[a-z-]*|bad-[a-z]+|other-build)\.test'
    filter22+='|EndToEnd/Async/|EndToEnd/OpenMP/incremental\.test|Tools/build-systems\.test'
    say "Tests: every test against LLVM 19 (build)$([ $llvm22 = no ] || echo ", and the lit suite against LLVM 22 (build-22), beside it")  [$((SECONDS - start)) s so far]"
    # Every feature of the tests is installed above: lit must not find one missing and skip
    # (the Slurm cluster and chown need root; as another user those tests are unsupported).
    LIT_REQUIRE_FEATURES="openmp fortran mpi-openmpi mpi-mpich"
    [ "$(id -u)" -ne 0 ] || LIT_REQUIRE_FEATURES+=" root slurm"
    export LIT_REQUIRE_FEATURES
    pid22=
    if [ $llvm22 = yes ]; then
      LIT_FILTER_OUT=$filter22 \
        ctest --test-dir build-22 -R '^lit$' --output-on-failure \
        --output-junit "$PWD/build-22/ctest-results.xml" > build-22/ctest.log 2>&1 &
      pid22=$!
    fi
    rc19=0 rc22=0
    ctest --test-dir build -j "$((JOBS + 1))" --output-on-failure \
      --output-junit "$PWD/build/ctest-results.xml" || rc19=$?
    if [ -n "$pid22" ]; then
      wait "$pid22" || rc22=$?
      say "The lit suite against LLVM 22 (build-22)"
      if [ $rc22 -eq 0 ]; then tail -n 3 build-22/ctest.log; else cat build-22/ctest.log; fi
    fi
    say "Timing"
    echo "./setup.sh test: $((SECONDS - start)) s in all"
    python3 tests/slowest.py build/ctest-results.xml build/lit-tests/results.xml \
      build-22/ctest-results.xml build-22/lit-tests/results.xml
    [ $rc22 -eq 0 ] || echo "setup.sh: the lit tests against LLVM 22 (build-22) failed: above" >&2
    [ $rc19 -eq 0 ] || echo "setup.sh: the tests against LLVM 19 (build) failed: above" >&2
    [ $rc19 -eq 0 ] && [ $rc22 -eq 0 ]
    ;;
  *)
    echo "usage: ./setup.sh demo | test | build   (see the top of this file)" >&2
    exit 2
    ;;
esac
