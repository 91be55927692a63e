#!/usr/bin/env bash
# Fuzzes the Keras model-file readers of `convbank import` (HDF5 through hdf5.c and libhdf5, .keras archives) with
# libFuzzer + ASan:
#   bash fuzz/swift/hdf5.sh [SECONDS]      (`make fuzz` runs it for FUZZ_SECONDS)
# Compiles the engine (Sources/ConvBankEngine with CConvKernels) as module ConvBankEngine, then HDF5Harness.swift with
# the import sources of ConvBankImageIO it needs as one module (`import ConvBankEngine` kept), plus CImageIO's
# hdf5.c and the codec shims ImageCodec links; libhdf5 is Debian's (not instrumented: its crashes show as SEGV, not ASan reports).
# If a change makes the import code need another file, add it to `io_sources` below.
# libhdf5 allocates what a header states before checking it against the file (4 GiB seen, never touched): the malloc
# limit is raised above the RSS limit so that is not a finding. Corpus fuzz/corpus-hdf5/ (seeded from Tests/ConvBankTests/Fixtures/keras), findings in fuzz/artifacts/hdf5-*.
# Exit 0 nothing found, 1 found, 2 build failed.
set -uo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz="$(dirname "$here")"
root="$(dirname "$fuzz")"
out="$root/.build-fuzz/hdf5"
artifacts="$fuzz/artifacts"
corpus="$fuzz/corpus-hdf5"
mkdir -p "$out/CImageIO" "$out/CConvKernels" "$out/src" "$artifacts" "$corpus"
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-$(command -v clang)}"
# shellcheck source=c_objects.sh
source "$here/c_objects.sh"
io="$root/Sources/ConvBankImageIO"
io_sources=("$here/HDF5Harness.swift" "$here/ONNXStub.swift")
for f in ImportSource ImportedModel "ImportedModel+Keras" HDF5File WeightFile "WeightFile+HDF5" "WeightFile+Convolutions" \
         ZipArchive NPYArray ImageCodec ImageCodecError ExifOrientation FileSystem "FilterBank+Import"; do
  grep -v '^import ConvBankImageIO' "$io/$f.swift" > "$out/src/$f.swift"
  io_sources+=("$out/src/$f.swift")
done
printf 'module CImageIO {\n    header "%s"\n    export *\n}\n' "$root/Sources/CImageIO/include/CImageIO.h" > "$out/CImageIO/module.modulemap"
printf 'module CConvKernels {\n    header "%s"\n    export *\n}\n' "$root/Sources/CConvKernels/include/CConvKernels.h" > "$out/CConvKernels/module.modulemap"

echo "fuzz: building $root/.build-fuzz/swift_hdf5_fuzzer"
(
  set -e
  cd "$out"
  rm -f ./*.o
  kernel_objects
  cimageio_objects hdf5 inflate png jpeg pngwrite deflate_rle tiff webp
  "$SWIFTC" -parse-as-library -g -O -wmo -module-name ConvBankEngine -package-name convbank -I "$out/CConvKernels" \
    -emit-module -emit-module-path "$out/ConvBankEngine.swiftmodule" -c "$root"/Sources/ConvBankEngine/*.swift -o engine.o
  # shellcheck disable=SC2046
  "$SWIFTC" -parse-as-library -sanitize=fuzzer,address -g -O -wmo -module-name ConvBankImageIO -package-name convbank \
    -I "$out" -I "$out/CImageIO" $(pkg-config --cflags-only-I hdf5-serial) -c "${io_sources[@]}" -o io.o
  # shellcheck disable=SC2046
  "$SWIFTC" -sanitize=fuzzer,address -g ./*.o $(pkg-config --libs hdf5-serial libpng libjpeg libdeflate libtiff-4 libwebp libwebpdemux) -lz -o "$root/.build-fuzz/swift_hdf5_fuzzer" \
    2>&1 | grep -v "Cannot export local symbol" || true
  test -x "$root/.build-fuzz/swift_hdf5_fuzzer"
) || { echo "fuzz: hdf5 harness build failed" >&2; exit 2; }

cp "$root"/Tests/ConvBankTests/Fixtures/keras/*.h5 "$root"/Tests/ConvBankTests/Fixtures/keras/*.keras "$corpus/"
before="$(ls "$artifacts" | wc -l)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:quarantine_size_mb=64}"
echo "fuzz: swift_hdf5_fuzzer for ${seconds}s"
"$root/.build-fuzz/swift_hdf5_fuzzer" -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -malloc_limit_mb=16384 -timeout=10 \
  -artifact_prefix="$artifacts/hdf5-" -print_final_stats=1 "$corpus"
status=$?
after="$(ls "$artifacts" | wc -l)"
if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
  echo "fuzz: hdf5: FOUND $((after - before)) new input(s) in $artifacts (fuzzer exit $status)" >&2
  exit 1
fi
