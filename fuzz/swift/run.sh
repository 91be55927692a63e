#!/usr/bin/env bash
# Fuzzes the Swift side of decoding (ImageCodec.decode(bytes:), CMYK → RGB, ExifOrientation) with libFuzzer + ASan:
#   bash fuzz/swift/run.sh [SECONDS]      (or FUZZ_SWIFT=1 bash fuzz/run.sh SECONDS)
# The package's targets cannot be rebuilt as a fuzzer without a target in Package.swift, so this compiles
# Harness.swift with the few engine and image I/O files the decode path needs (ImageCodec, ImageCodecError,
# ExifOrientation, FileSystem; Tensor, ConvolutionError, Geometry, ByteCount) as one module (their `import ConvBank…`
# lines dropped), plus the C decoders, with swiftc. If a change there makes ImageCodec.swift need another file, add
# it to `swift_sources` below.
# Corpus fuzz/corpus-swift/, findings in fuzz/artifacts/swift-*. Exit 0 nothing found, 1 found, 2 build failed.
set -uo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz="$(dirname "$here")"
root="$(dirname "$fuzz")"
out="$root/.build-fuzz/swift"
artifacts="$fuzz/artifacts"
corpus="$fuzz/corpus-swift"
mkdir -p "$out/CImageIO" "$artifacts"
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(command -v clang)}"
# shellcheck source=c_objects.sh
source "$here/c_objects.sh"
io="$root/Sources/ConvBankImageIO" engine="$root/Sources/ConvBankEngine"
mkdir -p "$out/src"
swift_sources=("$here/Harness.swift")
for f in "$io/ImageCodec.swift" "$io/ImageCodecError.swift" "$io/ExifOrientation.swift" "$io/FileSystem.swift" \
         "$engine/Tensor.swift" "$engine/ConvolutionError.swift" "$engine/Geometry.swift" "$engine/ByteCount.swift"; do
  grep -v '^import ConvBank' "$f" > "$out/src/$(basename "$f")"
  swift_sources+=("$out/src/$(basename "$f")")
done
printf 'module CImageIO {\n    header "%s"\n    export *\n}\n' "$root/Sources/CImageIO/include/CImageIO.h" > "$out/CImageIO/module.modulemap"

echo "fuzz: building $root/.build-fuzz/swift_decode_fuzzer"
(
  set -e
  cd "$out"
  rm -f ./*.o
  cimageio_objects png jpeg pngwrite deflate_rle tiff webp
  # -O keeps Swift's bounds and overflow checks (only -Ounchecked drops them); -parse-as-library: libFuzzer has main.
  "$SWIFTC" -parse-as-library -sanitize=fuzzer,address -g -O -module-name ConvBank -package-name convbank -I "$out/CImageIO" \
    $(pkg-config --cflags-only-I libpng) -c "${swift_sources[@]}"
  # shellcheck disable=SC2046
  "$SWIFTC" -sanitize=fuzzer,address -g ./*.o $(pkg-config --libs libpng libjpeg libdeflate libtiff-4 libwebp libwebpdemux) -o "$root/.build-fuzz/swift_decode_fuzzer" \
    2>&1 | grep -v "Cannot export local symbol" || true
  test -x "$root/.build-fuzz/swift_decode_fuzzer"
) || { echo "fuzz: Swift harness build failed" >&2; exit 2; }

bash "$fuzz/make_corpus.sh" "$corpus"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64}"
echo "fuzz: swift_decode_fuzzer for ${seconds}s"
"$root/.build-fuzz/swift_decode_fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -dict="$fuzz/decode.dict" -artifact_prefix="$artifacts/swift-" -print_final_stats=1 "$corpus"
