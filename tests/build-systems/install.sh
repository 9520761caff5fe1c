#!/bin/sh
# install.sh BUILD: `cmake --install BUILD` into a temporary prefix, which is then moved, so that
# nothing may depend on where it was installed, nor on BUILD or the source tree; then the installed
# autockpt is used as a user would, on the examples installed with its docs: the CMake project with
# find_package(autockpt) (CMAKE_PREFIX_PATH), the program built with `pkg-config --cflags --libs
# autockpt`, and the make project with the installed autockpt-cc.  Each program is checkpointed
# and restarted by cycle.sh (beside this script) and must resume and finish with the right sum.
# Exit status 0 when everything worked; the first failure is said on stderr.
set -eu
[ $# -eq 1 ] || { echo "usage: install.sh BUILD-DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/autockpt-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "install.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

# cycle.sh's summary (OUTPUT) of a checkpoint/restart that worked: exit 75, then 0; the second
# run began after 1 and ended with the sum of 1..12.
check_cycle() {
  what=$1 out=$2
  rest=$(grep -v '^run 2 first ' "$out" || true)
  first=$(sed -n 's/^run 2 first //p' "$out")
  expected=$(printf 'run 1 exit 75\nrun 2 exit 0\nrun 2 last sum 78')
  if [ "$rest" != "$expected" ] || [ "${first:-1}" -lt 2 ] || [ "$first" -gt 12 ]; then
    cat "$out" >&2
    fail "$what: the checkpoint/restart cycle did not work (above: cycle.sh's summary)"
  fi
  echo "$what: checkpointed, restarted at $first, finished"
}

step "cmake --install $build, then the prefix moved"
cmake --install "$build" --prefix "$work/stage" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "cmake --install failed"; }
mv "$work/stage" "$work/prefix"
prefix=$work/prefix
for f in bin/autockpt bin/autockpt-config bin/autockpt-cc bin/autockpt-c++ \
         lib/libautockpt-pass.so lib/libautockpt-rt.a include/autockpt/abi.h \
         lib/cmake/autockpt/autockptConfig.cmake lib/cmake/autockpt/autockptConfigVersion.cmake \
         lib/pkgconfig/autockpt.pc share/doc/autockpt/README.md \
         share/doc/autockpt/examples/build-systems/cmake/CMakeLists.txt; do
  [ -e "$prefix/$f" ] || fail "$f was not installed"
done
leaks=$(grep -rIl -e "$build" -e "$src" -e "$work/stage" "$prefix" || true)
[ -z "$leaks" ] || fail "installed files name the build tree, the sources or the old prefix: $leaks"
config=$prefix/bin/autockpt-config
for flag in --plugin --ldflags --cflags; do
  case $("$config" "$flag") in
    "$prefix"/*|-I"$prefix"/*) ;;
    *) fail "autockpt-config $flag does not point into the moved prefix: $("$config" "$flag")" ;;
  esac
done
examples=$prefix/share/doc/autockpt/examples/build-systems
cc=$("$config" --cc)

step "CMake: find_package(autockpt) with CMAKE_PREFIX_PATH=$prefix"
CC=$cc cmake -S "$examples/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF > "$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log" >&2; fail "configuring the CMake example failed"; }
found=$(sed -n 's/^autockpt_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
[ "$found" = "$prefix/lib/cmake/autockpt" ] || fail "CMake found autockpt in '$found'"
cmake --build "$work/cmake" >> "$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log" >&2; fail "building the CMake example failed"; }
AUTOCKPT_DIR=$work/cmake/ck sh "$here/cycle.sh" "$work/cmake/count" 12 > "$work/cmake.out"
check_cycle "CMake" "$work/cmake.out"
"$prefix/bin/autockpt" verify "$work/cmake/ck" || fail "the installed autockpt cannot verify"

step "pkg-config --cflags --libs autockpt with PKG_CONFIG_PATH=$prefix/lib/pkgconfig"
mkdir "$work/pc"
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs autockpt) ||
  fail "pkg-config does not find autockpt"
# shellcheck disable=SC2086 # the flags, one word each
"$cc" -O2 "$examples/src/main.c" "$examples/src/counter.c" $flags -o "$work/pc/count" ||
  fail "building with pkg-config's flags failed"
AUTOCKPT_DIR=$work/pc/ck sh "$here/cycle.sh" "$work/pc/count" 12 > "$work/pc.out"
check_cycle "pkg-config" "$work/pc.out"

step "make CC=$prefix/bin/autockpt-cc"
mkdir "$work/make"
make -s -C "$work/make" -f "$examples/make/Makefile" CC="$prefix/bin/autockpt-cc" ||
  fail "building the make example with the installed autockpt-cc failed"
AUTOCKPT_DIR=$work/make/ck sh "$here/cycle.sh" "$work/make/count" 12 > "$work/make.out"
check_cycle "make" "$work/make.out"
echo "PASS: installed autockpt"
