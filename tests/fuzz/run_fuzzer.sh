#!/bin/sh
# tests/fuzz/run_fuzzer.sh: runs one libFuzzer target as a meson test.
#   run_fuzzer.sh FUZZER COMMITTED_CORPUS WORK_DIR [libFuzzer flags...]
# The committed corpus is copied to WORK_DIR/corpus first, so the inputs
# libFuzzer adds land in the build directory and the source tree is never
# modified; crash, leak and timeout reproducers go to WORK_DIR too.  Any
# finding makes the test fail: libFuzzer's own error exit codes (77 is
# "skipped" to meson) are replaced by 1.
set -eu
fuzzer="$1" corpus="$2" work="$3"
shift 3
rm -rf "$work"
mkdir -p "$work/corpus"
cp "$corpus"/* "$work/corpus/"
# UBSan findings are fatal (libFuzzer then saves the input); keep the
# caller's other settings.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
exec "$fuzzer" -artifact_prefix="$work/" -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 "$@" "$work/corpus"
