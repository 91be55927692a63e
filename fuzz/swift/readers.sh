#!/usr/bin/env bash
# Fuzzes the weight-file readers of `convbank import` (.npz: zip central directory, raw inflate, .npy; .safetensors:
# header length, JSON header, offsets) with libFuzzer + ASan:
#   bash fuzz/swift/readers.sh [SECONDS]      (`make fuzz` runs it for FUZZ_SECONDS)
# Compiles ReaderHarness.swift with the reader sources (WeightFile, ZipArchive, NPYArray, ImageCodec for readFile,
# the JSON parser) as one module, their `import ConvBank…` lines dropped, plus CImageIO's inflate.c, with swiftc.
# If a change there makes them need another file, add it to `swift_sources` below.
# Corpus fuzz/corpus-readers/ (seeded from Tests/ConvBankTests/Fixtures/readers and import), findings in
# fuzz/artifacts/reader-*. Exit 0 nothing found, 1 found, 2 build failed.
set -uo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz="$(dirname "$here")"
root="$(dirname "$fuzz")"
out="$root/.build-fuzz/readers"
artifacts="$fuzz/artifacts"
corpus="$fuzz/corpus-readers"
mkdir -p "$out/CImageIO" "$out/src" "$artifacts" "$corpus"
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(command -v clang)}"
# shellcheck source=c_objects.sh
source "$here/c_objects.sh"
io="$root/Sources/ConvBankImageIO" engine="$root/Sources/ConvBankEngine"
swift_sources=("$here/ReaderHarness.swift")
for f in "$io/WeightFile.swift" "$io/WeightFile+HDF5.swift" "$io/HDF5File.swift" "$io/ZipArchive.swift" "$io/NPYArray.swift" "$io/ImageCodec.swift" "$io/ImageCodecError.swift" \
         "$io/ExifOrientation.swift" "$io/FileSystem.swift" "$engine/JSONValue.swift" "$engine/JSONValue+Parsing.swift" \
         "$engine/Tensor.swift" "$engine/ConvolutionError.swift" "$engine/Geometry.swift" "$engine/ByteCount.swift"; do
  grep -v '^import ConvBank' "$f" > "$out/src/$(basename "$f")"
  swift_sources+=("$out/src/$(basename "$f")")
done
printf 'module CImageIO {\n    header "%s"\n    export *\n}\n' "$root/Sources/CImageIO/include/CImageIO.h" > "$out/CImageIO/module.modulemap"

echo "fuzz: building $root/.build-fuzz/swift_reader_fuzzer"
(
  set -e
  cd "$out"
  rm -f ./*.o
  cimageio_objects hdf5 inflate png jpeg pngwrite deflate_rle tiff webp
  "$SWIFTC" -parse-as-library -sanitize=fuzzer,address -g -O -module-name ConvBank -package-name convbank -I "$out/CImageIO" \
    $(pkg-config --cflags-only-I libpng hdf5-serial) -c "${swift_sources[@]}"
  # shellcheck disable=SC2046
  "$SWIFTC" -sanitize=fuzzer,address -g ./*.o $(pkg-config --libs hdf5-serial libpng libjpeg libdeflate libtiff-4 libwebp libwebpdemux) -lz -o "$root/.build-fuzz/swift_reader_fuzzer" \
    2>&1 | grep -v "Cannot export local symbol" || true
  test -x "$root/.build-fuzz/swift_reader_fuzzer"
) || { echo "fuzz: reader harness build failed" >&2; exit 2; }

cp "$root"/Tests/ConvBankTests/Fixtures/readers/*.npz "$root"/Tests/ConvBankTests/Fixtures/readers/*.safetensors \
   "$root"/Tests/ConvBankTests/Fixtures/import/*.npy "$corpus/"
before="$(ls "$artifacts" | wc -l)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64}"
echo "fuzz: swift_reader_fuzzer for ${seconds}s"
"$root/.build-fuzz/swift_reader_fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$artifacts/reader-" -print_final_stats=1 "$corpus"
status=$?
after="$(ls "$artifacts" | wc -l)"
if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
  echo "fuzz: readers: FOUND $((after - before)) new input(s) in $artifacts (fuzzer exit $status)" >&2
  exit 1
fi
