#!/usr/bin/env bash
# make bench-big: one ~1-gigapixel 8-bit gray PNG (bench/make_big_png.py, generated in bounded memory) through the
# `sobel` bank with the pixel limit lifted; prints `name value unit` lines: wall time, MP/s, peak RSS, exit status.
#   bench/big.sh [WIDTH HEIGHT]     default 40000 25000; BIG_DIR (default .build/bench-big) holds the image and maps
# The run is bounded by BIG_TIMEOUT seconds (default 1800). A refused input (over --max-memory) is reported as such.
# Then bench/check_big.py compares rows of both maps with the formula (Pillow decodes; a virtualenv if needed).
set -uo pipefail
cd "$(dirname "$0")/.."
width=${1:-40000} height=${2:-25000}
dir=${BIG_DIR:-.build/bench-big}
bin=.build/release/convbank
mkdir -p "$dir"
image="$dir/big-${width}x${height}.png"
if [ ! -s "$image" ]; then
    echo "bench-big: writing $image"
    python3 bench/make_big_png.py "$image.tmp" "$width" "$height" && mv "$image.tmp" "$image" || exit 1
fi
rm -rf "$dir/out"
pixels=$((width * height))
/usr/bin/time -o "$dir/time" -f "%e %M" timeout "${BIG_TIMEOUT:-1800}" "$bin" apply "$image" --bank sobel --output "$dir/out" \
    --max-pixels 2000000000 -q 2>"$dir/stderr"
status=$?
result=$(tail -1 "$dir/time")
wall=${result% *} rss=${result#* }
echo "big-pixels $pixels px"
echo "big-wall $wall s"
[ "$status" = 0 ] && awk -v p="$pixels" -v w="$wall" 'BEGIN { if (w > 0) printf "big-end-to-end %.2f MP/s\n", p / 1e6 / w }'
awk -v r="$rss" 'BEGIN { printf "big-peak-memory %.0f MB\n", r / 1024 }'
echo "big-exit $status"
if [ "$status" != 0 ]; then sed 's/^/big-stderr: /' "$dir/stderr" | head -3; fi
# The maps against the formula, decoded by Pillow (bench/check_big.py), in a virtualenv when the system has no Pillow.
if [ "$status" = 0 ]; then
    py=python3
    if ! python3 -c 'import PIL, numpy' 2>/dev/null; then
        [ -x .build/bench-venv/bin/python ] || { python3 -m venv .build/bench-venv && .build/bench-venv/bin/pip install -q pillow numpy; } >/dev/null 2>&1
        py=.build/bench-venv/bin/python
    fi
    "$py" bench/check_big.py "$image" "$dir/out" || exit 1
fi
