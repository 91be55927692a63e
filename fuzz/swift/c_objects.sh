# Sourced by the Swift fuzz harness scripts, with `root` and `CLANG` set, inside their build folder: the C files a
# harness links, compiled with ASan and libFuzzer's coverage so the fuzzer sees into them.

# cimageio_objects NAME...: Sources/CImageIO/NAME.c as c_NAME.o (hdf5.c takes libhdf5's headers).
cimageio_objects() {
  local f packages="libpng libtiff-4 libwebp"
  [[ " $* " == *" hdf5 "* ]] && packages="hdf5-serial $packages"
  for f in "$@"; do
    # shellcheck disable=SC2046,SC2086
    "$CLANG" -g -O1 -fsanitize=fuzzer-no-link,address -I "$root/Sources/CImageIO/include" $(pkg-config --cflags $packages) \
      -c "$root/Sources/CImageIO/$f.c" -o "c_$f.o"
  done
}

# kernel_objects: every Sources/CConvKernels/*.c as k_NAME.o.
kernel_objects() {
  local f
  for f in "$root"/Sources/CConvKernels/*.c; do
    "$CLANG" -g -O1 -Wno-pass-failed -fsanitize=fuzzer-no-link,address -I "$root/Sources/CConvKernels/include" -c "$f" -o "k_$(basename "$f" .c).o"
  done
}
