#!/usr/bin/env bash
# scripts/fuzz.sh: runs Parley's libFuzzer targets (tests/fuzz) for as long
# as you like, one after the other, and prints the executions and
# executions per second of each.
#
#   scripts/fuzz.sh [--time SECONDS] [--build DIR] [--fresh] [target...]
#
#   --time SECONDS  per target (default 60)
#   --build DIR     the clang fuzzing build directory (default build-fuzz;
#                   configured here when missing)
#   --fresh         start from the committed seeds only, forgetting what
#                   earlier runs found
#   target          sdp rtp rtcp vp8 opus signaling jwt demux (default: all)
#
# Each target keeps its corpus in DIR/fuzz-corpus/<target> and reads the
# committed seeds (tests/fuzz/corpus/<target>) as a second, read-only
# corpus, so long runs build on each other and the source tree is never
# written to.  Crash, leak and timeout reproducers are written to
# DIR/fuzz-artifacts/<target>/; the script goes on with the next target
# and exits 1 at the end if any target found something.  libFuzzer flags
# after `--` are passed through (e.g. -- -jobs=2 -workers=2).
set -uo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"

all=(sdp rtp rtcp vp8 opus signaling jwt demux)
time_s=60 build=build-fuzz fresh=0 targets=() extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -d "tests/fuzz/corpus/$t" ] || { echo "fuzz.sh: no target '$t' (${all[*]})" >&2; exit 2; }
done

if [ ! -f "$build/build.ninja" ]; then
  # The libraries need coverage instrumentation and ASan too (see
  # tests/fuzz/meson.build); unit and integration tests are not built.
  CC=clang meson setup "$build" -Dfuzzers=true --buildtype=debugoptimized \
    -Db_sanitize=address,undefined -Dc_args=-fsanitize=fuzzer-no-link -Dtests=disabled \
    >/dev/null || exit 1
fi
ninja -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") >/dev/null ||
  { ninja -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") | tail -30; exit 1; }

export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t" art="$build/fuzz-artifacts/$t" log="$build/fuzz-$t.log"
  [ "$fresh" = 1 ] && rm -rf "$corpus"
  mkdir -p "$corpus" "$art"
  echo "== fuzz_$t for ${time_s} s (log: $log)"
  start=$(date +%s)
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$time_s" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$art/" \
    ${extra[@]+"${extra[@]}"} "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(ls "$corpus" | wc -l)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    status=1
    result="FOUND SOMETHING after ${secs} s: $(grep -m1 -oE 'Test unit written to .*' "$log")"
    grep -m3 -E 'ERROR:|property violated|SUMMARY' "$log" | sed 's/^/   /'
  else
    result="ok"
  fi
  line=$(printf '%-10s %6s s  %12s execs  %8s execs/s  corpus %5s  %s  %s' \
    "$t" "$secs" "${execs:-?}" "${rate:-?}" "$units" "${cov:-}" "$result")
  echo "$line"
  summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
