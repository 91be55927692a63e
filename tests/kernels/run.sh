#!/usr/bin/env bash
# The vector kernels as users run them: a RELEASE binary (the optimised AVX-512, AVX2 and portable copies of
# Sources/CConvKernels) writes the maps of several banks over SampleImages at every kernel level this CPU has
# (CONVBANK_KERNELS=portable|avx2|avx512), and every map must be byte-identical across levels and between whole-image
# (banded) and streamed runs; and each tap must be one exact fused multiply-add at every level.
#   bash tests/kernels/run.sh [BINARY]     (default .build/release/convbank; `make test` builds it)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
binary="${1:-.build/release/convbank}"
[ -x "$binary" ] || { echo "kernels: no binary at $binary" >&2; exit 2; }
levels=(portable)
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && levels+=(avx2)
grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && levels+=(avx512)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
# edges: 3×3 blocks of 8; gaussian: a low-rank 13×13; w3: 64 filters 7×7×3 stride 2 relu; sobel-hwio: a whole-layer bank.
for bank in edges "gaussian:sigma=2" bench/banks/w3.json examples/banks/sobel-hwio.json; do
  name="$(echo "$bank" | tr -c 'A-Za-z0-9\n' '_')"
  for level in "${levels[@]}"; do
    CONVBANK_KERNELS="$level" "$binary" apply SampleImages --bank "$bank" --output "$work/$name/$level" --format npy -q \
      || { echo "kernels: $bank at $level exited $?" >&2; failed=$((failed + 1)); continue 2; }
  done
  ok=1
  for level in "${levels[@]:1}"; do
    if ! diff -r -q -x '.convbank-record.json' -x 'manifest*.jsonl' "$work/$name/portable" "$work/$name/$level" >&2; then ok=0; fi
  done
  count="$(find "$work/$name/portable" -name '*.npy' | wc -l)"
  if [ "$ok" = 1 ] && [ "$count" -gt 0 ]; then
    passed=$((passed + 1)); echo "kernels: $bank: $count maps identical at ${levels[*]}"
  else
    failed=$((failed + 1)); echo "kernels: $bank: maps differ between kernel levels" >&2
  fi
done
# The wide kernel (blocks of 32 or 64 filters in the vector lanes) against the 8-filter kernel at the best level: w3's
# 64 filters split into 8 banks of 8 (each then runs on the 8-filter kernel) give the same maps, byte for byte.
if command -v python3 >/dev/null; then
  python3 - "$work/split" <<'PY'
import json, os, sys
bank = json.load(open("bench/banks/w3.json"))
os.makedirs(sys.argv[1], exist_ok=True)
for k in range(8):
    part = dict(bank, name="w3-part%d" % k, names=["f%d" % f for f in range(8 * k, 8 * k + 8)],
                bias=bank["bias"][8 * k:8 * k + 8],
                kernel=[[[c[8 * k:8 * k + 8] for c in kw] for kw in kh] for kh in bank["kernel"]])
    json.dump(part, open(os.path.join(sys.argv[1], "part%d.json" % k), "w"))
PY
  ok=1
  for k in 0 1 2 3 4 5 6 7; do
    "$binary" apply SampleImages --bank "$work/split/part$k.json" --output "$work/split/out" --format npy -q || ok=0
  done
  whole="$work/bench_banks_w3_json/portable"
  for map in $(cd "$whole" && find . -name '*.npy'); do
    cmp -s "$whole/$map" "$work/split/out/$map" || { ok=0; echo "kernels: w3 $map differs between the wide and 8-filter kernels" >&2; }
  done
  if [ "$ok" = 1 ]; then passed=$((passed + 1)); echo "kernels: w3 wide kernel = 8-filter kernel on every map"
  else failed=$((failed + 1)); fi
fi
# Whole-image runs (here `--sheet` makes them: banded where the padded copy passes 2 MiB, as for these photos) against the
# streamed runs above: the same npy maps, byte for byte.
for bank in edges bench/banks/w3.json; do
  name="$(echo "$bank" | tr -c 'A-Za-z0-9\n' '_')"
  best="${levels[${#levels[@]}-1]}"
  whole="$work/whole-$name"
  ok=1
  "$binary" apply SampleImages --bank "$bank" --output "$whole" --format npy --sheet -q || ok=0
  count=0
  for map in $(cd "$work/$name/$best" && find . -name '*.npy'); do
    count=$((count + 1))
    cmp -s "$work/$name/$best/$map" "$whole/$map" || { ok=0; echo "kernels: $bank $map: whole-image run differs from the stream" >&2; }
  done
  if [ "$ok" = 1 ] && [ "$count" -gt 0 ]; then passed=$((passed + 1)); echo "kernels: $bank: $count whole-image maps = streamed maps"
  else failed=$((failed + 1)); fi
done
# Each tap is one fused multiply-add at every level (the portable copy emulates it exactly): an exact rational reference
# on an input where an unfused multiply-add or a naive double-precision emulation rounds differently (tests/kernels/fused.py).
if command -v python3 >/dev/null; then
  mkdir -p "$work/fused"
  python3 tests/kernels/fused.py write "$work/fused"
  for filters in 8 32; do
    ok=1
    for level in "${levels[@]}"; do
      out="$work/fused/out-$filters-$level"
      CONVBANK_KERNELS="$level" "$binary" apply "$work/fused/fma.tif" --bank "$work/fused/fma$filters.json" --output "$out" --format npy -q \
        && python3 tests/kernels/fused.py check "$out" "$filters" || ok=0
    done
    if [ "$ok" = 1 ]; then passed=$((passed + 1)); echo "kernels: $filters filters 8×8: every tap one fused multiply-add at ${levels[*]}"
    else failed=$((failed + 1)); echo "kernels: $filters filters 8×8: not the exact fused multiply-adds" >&2; fi
  done
fi
echo "kernels: $passed passed, $failed failed"
[ "$failed" = 0 ]
