#!/usr/bin/env bash
# Fuzzes convbank's PNG, JPEG, TIFF and WebP decoders (Sources/CImageIO) with libFuzzer under ASan + UBSan for a bounded time.
#   bash fuzz/run.sh [SECONDS]        (default 60; `make fuzz FUZZ_SECONDS=300`)
# Environment: FUZZ_JOBS (parallel fuzzing processes, default 1), CLANG (default: the Swift toolchain's clang),
#   FUZZ_SWIFT=1 also fuzzes the Swift side (ImageCodec.decode + EXIF parsing) for the same time, see swift/.
# Builds into .build-fuzz/, grows the corpus in fuzz/corpus/ (seeded by make_corpus.sh from the committed
# fuzz/seeds/ and the test fixtures; `python3 fuzz/make_seeds.py` remakes the seeds), writes what it finds
# (crash-*, leak-*, timeout-*, oom-*) into fuzz/artifacts/. Exits 0 if nothing was found, 1 if something was,
# 2 if the fuzzer could not be built. A finding is reproduced with `.build-fuzz/decode_fuzzer FILE`; keep it as
# a regression input in Tests/ConvBankTests/Fixtures/fuzz/ with a case in FuzzRegressionTests.swift.
set -uo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
build="$root/.build-fuzz"
artifacts="$here/artifacts"
corpus="$here/corpus"
mkdir -p "$build" "$artifacts"

# A clang with the libFuzzer runtime: the Swift toolchain's has it (clang_rt.fuzzer); Debian's needs libclang-rt-dev.
CLANG="${CLANG:-$(command -v clang || true)}"
[ -n "$CLANG" ] || { echo "fuzz: no clang found (the Swift toolchain's, or apt-get install clang)" >&2; exit 2; }
if ! "$CLANG" -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
  echo "fuzz: warning: $CLANG may lack the libFuzzer runtime (apt-get install libclang-rt-dev, or use the Swift toolchain's clang)" >&2
fi
linker=""
"$CLANG" -fuse-ld=lld -x c /dev/null -shared -o /dev/null 2>/dev/null && linker="-fuse-ld=lld"
libs="$(pkg-config --cflags --libs libpng libjpeg libdeflate libtiff-4 libwebp libwebpdemux)" || { echo "fuzz: pkg-config cannot find libpng/libjpeg/libdeflate/libtiff/libwebp (make deps)" >&2; exit 2; }

echo "fuzz: building $build/decode_fuzzer with $CLANG"
# shellcheck disable=SC2086
"$CLANG" -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $linker \
  -I Sources/CImageIO/include "$here/decode_fuzzer.c" Sources/CImageIO/png.c Sources/CImageIO/jpeg.c Sources/CImageIO/pngwrite.c Sources/CImageIO/deflate_rle.c \
  Sources/CImageIO/tiff.c Sources/CImageIO/webp.c \
  $libs -o "$build/decode_fuzzer" || { echo "fuzz: build failed" >&2; exit 2; }

bash "$here/make_corpus.sh" "$corpus"
before="$(ls "$artifacts" | wc -l)"

jobs="${FUZZ_JOBS:-1}"
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "fuzz: decode_fuzzer for ${seconds}s ($jobs job(s)), artifacts in $artifacts"
"$build/decode_fuzzer" "${parallel[@]}" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -dict="$here/decode.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 -print_pcs=0 "$corpus"
status=$?

if [ "${FUZZ_SWIFT:-0}" = 1 ]; then
  bash "$here/swift/run.sh" "$seconds" || status=1
fi

after="$(ls "$artifacts" | wc -l)"
if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
  echo "fuzz: FOUND $((after - before)) new input(s) in $artifacts (fuzzer exit $status):" >&2
  ls -t "$artifacts" | head -n $((after - before > 0 ? after - before : 1)) >&2
  exit 1
fi
echo "fuzz: nothing found in ${seconds}s"
