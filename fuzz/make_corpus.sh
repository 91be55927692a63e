#!/usr/bin/env bash
# Builds the seed corpus of fuzz/decode_fuzzer in fuzz/corpus/ (or the folder given) from the committed seeds in
# fuzz/seeds/ (ancillary chunks and markers, made by make_seeds.py) and small valid and corrupt images from the
# test fixtures. Safe to rerun: it only adds files, so the inputs libFuzzer added to the folder in earlier runs stay.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="${1:-$here/corpus}"
testdata="$root/Tests/ConvBankTests/Fixtures/testdata"
mkdir -p "$out"

# Every ancillary chunk kind and APPn/COM marker with valid CRCs and lengths, data after the zlib stream (~25 KB).
for f in "$here"/seeds/*; do cp -f "$f" "$out/seed_$(basename "$f")"; done
# PngSuite: every colour type, bit depth, interlacing, ancillary chunk and the 14 corrupt files (~0.1 MB, each < 5 KB).
for f in "$testdata"/pngsuite/*.png; do cp -f "$f" "$out/png_$(basename "$f")"; done
# The generated JPEGs: baseline 4:2:0/4:1:1/4:4:0 with restart markers, arithmetic, progressive, CMYK, YCCK, EXIF (~150 KB).
for f in "$testdata"/jpeg/*.jpg; do cp -f "$f" "$out/jpeg_$(basename "$f")"; done
# The TIFF and WebP fixtures: every sample kind, compression, tiles, planes, orientation; lossless, lossy, animated;
# truncated and refused files (~100 KB).
for f in "$root"/Tests/ConvBankTests/Fixtures/formats/*.tif "$root"/Tests/ConvBankTests/Fixtures/formats/*.webp; do
  cp -f "$f" "$out/formats_$(basename "$f")"
done
# Earlier findings, so each run starts from them too.
if [ -d "$root/Tests/ConvBankTests/Fixtures/fuzz" ]; then
  for f in "$root"/Tests/ConvBankTests/Fixtures/fuzz/*; do
    case "$f" in *.png|*.jpg|*.tif|*.webp|*.bin) cp -f "$f" "$out/regression_$(basename "$f")" ;; esac
  done
fi
chmod u+w "$out"/* 2>/dev/null || true
echo "seed corpus: $(ls "$out" | wc -l) files, $(du -sh "$out" | cut -f1) in $out"
