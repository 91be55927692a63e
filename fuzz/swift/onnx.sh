#!/usr/bin/env bash
# Fuzzes the ONNX reader of `convbank import` (protobuf decoding through the committed onnx.pb.swift, the chain
# walk, attributes, tensors) with libFuzzer + ASan:
#   bash fuzz/swift/onnx.sh [SECONDS]      (`make fuzz` runs it for FUZZ_SECONDS)
# Compiles three modules with swiftc, all instrumented: SwiftProtobuf (from the package's checkout in .build,
# resolved first if missing), ConvBankEngine (every engine file, with the CConvKernels C code) and the harness
# module (ONNXHarness.swift with the reader's ImageIO files: ImportedModel, ImportedModel+ONNX, onnx.pb.swift,
# WeightFile for its error type, and what WeightFile needs, plus CImageIO's C code). If the reader comes to need
# another file, add it to `io_files` below.
# Corpus fuzz/corpus-onnx/ (seeded from Tests/ConvBankTests/Fixtures/onnx), findings in fuzz/artifacts/onnx-*.
# Exit 0 nothing found, 1 found, 2 build failed.
set -uo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz="$(dirname "$here")"
root="$(dirname "$fuzz")"
out="$root/.build-fuzz/onnx"
artifacts="$fuzz/artifacts"
corpus="$fuzz/corpus-onnx"
mkdir -p "$out/CImageIO" "$out/CConvKernels" "$out/modules" "$artifacts" "$corpus"
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(command -v clang)}"
# shellcheck source=c_objects.sh
source "$here/c_objects.sh"
io="$root/Sources/ConvBankImageIO" engine="$root/Sources/ConvBankEngine"
protobuf="$root/.build/checkouts/swift-protobuf/Sources/SwiftProtobuf"
[ -d "$protobuf" ] || (cd "$root" && swift package resolve) || true
[ -d "$protobuf" ] || { echo "fuzz: no swift-protobuf checkout in .build (swift package resolve failed)" >&2; exit 2; }
io_files=(ImportedModel.swift ImportedModel+ONNX.swift ONNX/onnx.pb.swift WeightFile.swift WeightFile+HDF5.swift HDF5File.swift ZipArchive.swift NPYArray.swift
          ImageCodec.swift ImageCodecError.swift ExifOrientation.swift FileSystem.swift)
printf 'module CImageIO {\n    header "%s"\n    export *\n}\n' "$root/Sources/CImageIO/include/CImageIO.h" > "$out/CImageIO/module.modulemap"
printf 'module CConvKernels {\n    header "%s"\n    export *\n}\n' "$root/Sources/CConvKernels/include/CConvKernels.h" > "$out/CConvKernels/module.modulemap"
flags=(-parse-as-library -sanitize=fuzzer,address -g -O -wmo -package-name convbank -I "$out/modules")

echo "fuzz: building $root/.build-fuzz/swift_onnx_fuzzer"
(
  set -e
  cd "$out"
  rm -f ./*.o
  cimageio_objects hdf5 inflate png jpeg pngwrite deflate_rle tiff webp
  kernel_objects
  "$SWIFTC" "${flags[@]}" -module-name SwiftProtobuf -enable-upcoming-feature ExistentialAny \
    -emit-module -emit-module-path "$out/modules/SwiftProtobuf.swiftmodule" -c "$protobuf"/*.swift -o swiftprotobuf.o
  "$SWIFTC" "${flags[@]}" -module-name ConvBankEngine -I "$out/CConvKernels" \
    -emit-module -emit-module-path "$out/modules/ConvBankEngine.swiftmodule" -c "$engine"/*.swift -o engine.o
  "$SWIFTC" "${flags[@]}" -module-name ConvBankImageIO -I "$out/CImageIO" -I "$out/CConvKernels" $(pkg-config --cflags-only-I libpng hdf5-serial) \
    -c "$here/ONNXHarness.swift" "${io_files[@]/#/$io/}" -o imageio.o
  # shellcheck disable=SC2046
  "$SWIFTC" -sanitize=fuzzer,address -g ./*.o $(pkg-config --libs hdf5-serial libpng libjpeg libdeflate libtiff-4 libwebp libwebpdemux) -lz \
    -o "$root/.build-fuzz/swift_onnx_fuzzer" 2>&1 | grep -v "Cannot export local symbol" || true
  test -x "$root/.build-fuzz/swift_onnx_fuzzer"
) || { echo "fuzz: ONNX harness build failed" >&2; exit 2; }

find "$root/Tests/ConvBankTests/Fixtures/onnx" -name '*.onnx' -exec cp {} "$corpus/" \;
before="$(ls "$artifacts" | wc -l)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64}"
echo "fuzz: swift_onnx_fuzzer for ${seconds}s"
"$root/.build-fuzz/swift_onnx_fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$artifacts/onnx-" -print_final_stats=1 "$corpus"
status=$?
after="$(ls "$artifacts" | wc -l)"
if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
  echo "fuzz: onnx: FOUND $((after - before)) new input(s) in $artifacts (fuzzer exit $status)" >&2
  exit 1
fi
