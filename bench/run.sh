#!/usr/bin/env bash
# make bench: stage figures (conv GFLOP/s, decode MP/s, PNG MB/s) and end-to-end runs of the benchmark
# workloads, one line per figure: `name value unit`. Medians of several runs. Release build.
#   bench/run.sh [PHOTOS]     default PHOTOS = SampleImages; outputs go to a tmpfs when /dev/shm exists
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTOS=${1:-SampleImages}
RUNS=${RUNS:-3}
BIN=.build/release/convbank
OUT_BASE=$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}" )/convbank-bench-$$
trap 'rm -rf "$OUT_BASE"' EXIT

.build/release/ConvBankBench --repeats 7 --photos "$PHOTOS"

mp=$(python3 - "$PHOTOS" <<'PY' 2>/dev/null || echo 0
import sys, os, struct
# megapixels of the photos, from their headers (PNG IHDR, JPEG SOF), no third-party modules
total = 0
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        p = os.path.join(root, name)
        b = open(p, 'rb').read()
        if b[:8] == b'\x89PNG\r\n\x1a\n':
            w, h = struct.unpack('>II', b[16:24]); total += w * h
        elif b[:2] == b'\xff\xd8':
            i = 2
            while i < len(b):
                if b[i] != 0xFF: break
                m = b[i + 1]; L = struct.unpack('>H', b[i + 2:i + 4])[0]
                if m in (0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA, 0xCB):
                    h, w = struct.unpack('>HH', b[i + 5:i + 9]); total += w * h; break
                i += 2 + L
print(total / 1e6)
PY
)

run() {  # name bank [extra args]: median wall of RUNS runs, MP/s, peak RSS
  local name=$1 bank=$2; shift 2
  local walls=() rss=0 input=${RUN_INPUT:-$PHOTOS} mp=${RUN_MP:-$mp}
  for _ in $(seq "$RUNS"); do
    rm -rf "$OUT_BASE"
    local t
    t=$( { /usr/bin/time -f "%e %M" "$BIN" apply "$input" --bank "$bank" --output "$OUT_BASE" -q "$@" >/dev/null; } 2>&1 | tail -1 )
    walls+=("${t% *}")
    [ "${t#* }" -gt "$rss" ] && rss=${t#* }
  done
  local med
  med=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  echo "$name-wall $med s"
  awk -v mp="$mp" -v w="$med" -v n="$name" 'BEGIN { if (w > 0) printf "%s-end-to-end %.2f MP/s\n", n, mp / w }'
  awk -v r="$rss" -v n="$name" 'BEGIN { printf "%s-peak-memory %.0f MB\n", n, r / 1024 }'
  if [ -d "$OUT_BASE" ]; then echo "$name-output $(du -sb "$OUT_BASE" | cut -f1) bytes"; fi
}

echo "photos $mp MP"
run W1 edges
run W2 bench/banks/w2.json
run W2dense bench/banks/w2.json
run W3 bench/banks/w3.json --format npy
run W4 gaussian:sigma=2 --per-channel --format jpeg --quality 90
# W5: VGG16 block 1 as a network (bench/banks/w5.json) on 224×224 tiles of the photos, as `anchors.py onnx W5`.
# Tiles from W5_TILES, or cut by ../shared/bench/anchors.py tiles with W5_PYTHON (default python3; it needs OpenCV,
# e.g. the anchors' venv); skipped when neither is there.
TILES=${W5_TILES:-}
if [ -z "$TILES" ] && "${W5_PYTHON:-python3}" ../shared/bench/anchors.py tiles "$PHOTOS" "$OUT_BASE-tiles" >/dev/null 2>&1; then TILES=$OUT_BASE-tiles; fi
if [ -n "$TILES" ] && [ -d "$TILES" ]; then
  tiles_mp=$(find "$TILES" -name '*.png' | wc -l | awk '{print $1 * 224 * 224 / 1e6}')
  RUN_INPUT=$TILES RUN_MP=$tiles_mp run W5 bench/banks/w5.json --format npy
else
  echo "W5-skipped no tiles (set W5_TILES, or W5_PYTHON to a Python with OpenCV for ../shared/bench/anchors.py tiles)"
fi
rm -rf "$OUT_BASE-tiles"
