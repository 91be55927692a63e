#!/usr/bin/env bash
# Generates Sources/ConvBankImageIO/ONNX/onnx.pb.swift, the Swift types of ONNX's protobuf schema, for the ONNX
# reader of `convbank import`. Run once, when the pinned versions change; the output is committed, so building the
# package never needs protoc or the plugin.
#
#   bash scripts/generate_onnx_swift.sh [SCRATCH]      # from the repository root
#
# Pinned versions:
#   - the schema: onnx/onnx.proto (proto2, package onnx) from the `onnx` 1.23.2 wheel on PyPI (the file ships inside
#     the wheel; ONNX IR version 13)
#   - the generator: protoc-gen-swift from apple/swift-protobuf 1.39.0, the version Package.swift depends on (the
#     generated code must match its runtime library), built here in release mode (about ten minutes on two cores)
#   - protoc: Debian's `protobuf-compiler` (3.21.12 on Debian 12); any protoc that reads proto2 will do
# Options: Visibility=Internal (the types stay inside ConvBankImageIO, no public API to document).
# SCRATCH (default: a temporary folder) holds the wheel and the plugin's build; it is outside the repository.
set -euo pipefail
ONNX_VERSION=1.23.2
SWIFT_PROTOBUF_VERSION=1.39.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="${1:-$(mktemp -d)}"
mkdir -p "$scratch"
out="$root/Sources/ConvBankImageIO/ONNX"

command -v protoc >/dev/null || { echo "needs protoc: apt-get install protobuf-compiler" >&2; exit 1; }

# 1. The schema, from the wheel (a zip: onnx/onnx.proto inside).
if [ ! -f "$scratch/onnx.proto" ]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$scratch/wheel" "onnx==$ONNX_VERSION"
  python3 - "$scratch" <<'EOF'
import glob, sys, zipfile
scratch = sys.argv[1]
wheel = glob.glob(f"{scratch}/wheel/onnx-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    open(f"{scratch}/onnx.proto", "wb").write(z.read("onnx/onnx.proto"))
EOF
fi

# 2. The plugin, from swift-protobuf at the pinned tag.
plugin="$scratch/swift-protobuf/.build/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
  [ -d "$scratch/swift-protobuf" ] || git clone --quiet --depth 1 --branch "$SWIFT_PROTOBUF_VERSION" \
    https://github.com/apple/swift-protobuf "$scratch/swift-protobuf"
  (cd "$scratch/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi

# 3. The Swift code.
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" -I "$scratch" --swift_out="$out" --swift_opt=Visibility=Internal \
  "$scratch/onnx.proto"
echo "wrote $out/onnx.pb.swift (onnx $ONNX_VERSION, swift-protobuf $SWIFT_PROTOBUF_VERSION)"
