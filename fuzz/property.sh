#!/usr/bin/env bash
# Property fuzzing of the whole CLI: runs HostilePropertyTests (Tests/ConvBankCLITests/HostilePropertyTests.swift)
# with many cases and a fresh random seed, for a bounded time. Each case builds a folder of valid and hostile
# images, odd names and a random bank or built-in, runs the real `convbank` (apply, summary, explain, banks) and
# checks: exit status 0, 1 or 64, no signal, peak RSS under the bound, every input processed or named on stderr,
# nothing written outside the output folder.
#
#   bash fuzz/property.sh [SECONDS] [CASES]      (defaults: 300 s, up to 100000 cases; `make fuzz` wires it)
#
# Environment:
#   PROPERTY_SEED                  seed (decimal or 0x…); default: random from /dev/urandom, printed first
#   PROPERTY_SECONDS, PROPERTY_CASES   instead of the arguments
#   CONVBANK_PROPERTY_KEEP         where failing cases are kept (default fuzz/artifacts/property): one folder per
#                                  case with the inputs, the bank and command.sh, which reruns each command
#   CONVBANK_PROPERTY_MAX_RSS_MB   RSS bound (default 1024); CONVBANK_PROPERTY_TIMEOUT  seconds per run (20)
#   CONVBANK_PROPERTY_BINARY       fuzz another binary (e.g. .build/release/convbank) instead of the debug build
#   CONVBANK_PROPERTY_VERBOSE=1    print every run
#
# Exit status: 0 nothing found, 1 a failing case was found (or the run overran its time bound), 2 the build failed.
# A failure is reproduced with the seed and case number it prints:
#   CONVBANK_PROPERTY_SEED=S CONVBANK_PROPERTY_ONLY=N swift test --skip-build --filter HostilePropertyTests
set -uo pipefail
seconds="${1:-${PROPERTY_SECONDS:-300}}"
cases="${2:-${PROPERTY_CASES:-100000}}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

seed="${PROPERTY_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' \n')}"
keep="${CONVBANK_PROPERTY_KEEP:-$here/artifacts/property}"
mkdir -p "$keep"
log="$keep/run-$seed.log"

echo "property fuzz: building (swift build --build-tests)"
built=0
for attempt in 1 2 3; do  # a source file edited during the build fails it; the next attempt picks the edit up
  if swift build --build-tests >"$keep/build.log" 2>&1; then built=1; break; fi
  sleep 5
done
if [ "$built" -ne 1 ]; then
  grep -E "error" "$keep/build.log" | head -n 20 >&2
  echo "property fuzz: build failed (log: $keep/build.log)" >&2
  exit 2
fi

echo "property fuzz: seed $seed, up to $cases cases, no new case after ${seconds}s; log $log; failing cases in $keep"
# The test stops starting cases after SECONDS; a case already running may take a few runs × the per-run timeout
# (20 s + 1 s per 1,000 filters), so the hard limit leaves room for that.
hard=$((seconds + 240))
CONVBANK_PROPERTY_SEED="$seed" CONVBANK_PROPERTY_CASES="$cases" CONVBANK_PROPERTY_SECONDS="$seconds" \
  CONVBANK_PROPERTY_KEEP="$keep" \
  timeout --signal=TERM --kill-after=30 "$hard" \
  swift test --skip-build --filter HostilePropertyTests >"$log" 2>&1
status=$?

# The per-case failure reports, then the closing summary (distinct failure signatures, with case numbers).
grep -E "^(↳ )?hostile case [0-9]+ |^ +(↳ )?(command|outcome|reproduce)|^ +- |^HostilePropertyTests:|^  [0-9]+× " "$log" | sed 's/^↳ //' | head -n 400
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "property fuzz: the test run overran its ${hard}s limit and was stopped (a hang the per-run timeout missed?); see $log" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "property fuzz: FOUND failing cases (seed $seed); details in $log, cases kept in $keep" >&2
  exit 1
fi
echo "property fuzz: nothing found (seed $seed)"
