#!/usr/bin/env bash
# Checks convbank as a library dependency (make consumer):
#  (a) builds this consumer in release against the checkout by path, runs it on SampleImages/* with two banks and
#      compares every map with `convbank apply --format npy` byte for byte (cmp); prints both wall times;
#  (b) clones the repository's HEAD into a throw-away folder, tags it 0.3.0 there, and builds the consumer in
#      release against that clone BY VERSION (CONVBANK_PACKAGE_URL=file://…, from: "0.3.0"), as another package would.
# Exit status 0 only when both hold. KEEP=1 keeps the temporary folder.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SWIFT=${SWIFT:-swift}
banks=("edges" "examples/banks/sobel-hwio.json")
work=$(mktemp -d /tmp/convbank-consumer.XXXXXX)
# SwiftPM also leaves lock files named after a build folder in /tmp (/tmp/_tmp_convbank-consumer.XXXXXX_…).
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work" "/tmp/${work//\//_}"_*' EXIT
status=0

now() { date +%s%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

cd "$root" || exit 1
shopt -s nullglob nocaseglob
images=(SampleImages/*.png SampleImages/*.jpg SampleImages/*.jpeg)
shopt -u nullglob nocaseglob
[ ${#images[@]} -gt 0 ] || { echo "no images in SampleImages/"; exit 1; }

echo "== (a) by path: build"
"$SWIFT" build -c release --product convbank || { echo "FAIL: cannot build convbank"; exit 1; }
cli="$root/.build/release/convbank"
"$SWIFT" build -c release --package-path "$here" || { echo "FAIL: cannot build the consumer by path"; exit 1; }
consumer="$("$SWIFT" build -c release --package-path "$here" --show-bin-path)/library-consumer"

for bank in "${banks[@]}"; do
    tag=$(basename "$bank" .json)
    echo "== (a) bank $bank on ${#images[@]} images"
    start=$(now)
    for image in "${images[@]}"; do
        stem=$(basename "${image%.*}")
        "$consumer" "$image" "$bank" "$work/consumer/$tag/$stem" >/dev/null || { echo "FAIL: consumer on $image"; status=1; }
    done
    consumerTime=$(seconds "$start" "$(now)")
    start=$(now)
    "$cli" apply "${images[@]}" --bank "$bank" --format npy --output "$work/cli/$tag" --force --quiet || { echo "FAIL: convbank apply"; status=1; }
    cliTime=$(seconds "$start" "$(now)")
    # The like-for-like time: convbank too as one process per image.
    start=$(now)
    for image in "${images[@]}"; do
        "$cli" apply "$image" --bank "$bank" --format npy --output "$work/cli-each/$tag" --force --quiet || status=1
    done
    cliEachTime=$(seconds "$start" "$(now)")

    (cd "$work/cli/$tag" && find . -name '*.npy' | sort) >"$work/cli-$tag.list"
    (cd "$work/consumer/$tag" && find . -name '*.npy' | sort) >"$work/consumer-$tag.list"
    if ! diff -u "$work/cli-$tag.list" "$work/consumer-$tag.list"; then
        echo "FAIL: the consumer and convbank wrote different sets of maps"
        status=1
    fi
    compared=0 differing=0
    while read -r file; do
        compared=$((compared + 1))
        cmp -s "$work/cli/$tag/$file" "$work/consumer/$tag/$file" || { echo "differs: $file"; differing=$((differing + 1)); }
    done <"$work/cli-$tag.list"
    [ "$differing" = 0 ] && [ "$compared" -gt 0 ] || status=1
    echo "bank $tag: $compared maps compared, $differing differ; wall time: library-consumer ${consumerTime} s and convbank apply ${cliEachTime} s (one process per image each); convbank apply ${cliTime} s (one batch)"
done

echo "== (b) by version: throw-away clone of HEAD tagged 0.3.0"
clone="$work/convbank"
git clone -q --no-hardlinks "$root" "$clone" && git -C "$clone" tag -f 0.3.0 >/dev/null || { echo "FAIL: cannot clone and tag"; exit 1; }
echo "cloned $(git -C "$clone" rev-parse --short HEAD) ($(git -C "$clone" log -1 --format=%s | cut -c1-70)…), tagged 0.3.0"
mkdir -p "$work/versioned"
cp "$here/Package.swift" "$work/versioned/" && cp -R "$here/Sources" "$work/versioned/"
if CONVBANK_PACKAGE_URL="file://$clone" "$SWIFT" build -c release --package-path "$work/versioned" >"$work/versioned.log" 2>&1; then
    echo "(b) OK: the consumer builds against convbank 0.3.0 by version"
    image=${images[0]} stem=$(basename "${images[0]%.*}") tag=$(basename "${banks[0]}" .json)
    "$work/versioned/.build/release/library-consumer" "$image" "${banks[0]}" "$work/versioned-out" >/dev/null || status=1
    for map in "$work/versioned-out"/*.npy; do
        cmp "$map" "$work/cli/$tag/$stem/$(basename "$map")" || status=1
    done
    [ $status = 0 ] && echo "(b) its maps of $image equal convbank's, byte for byte"
else
    echo "(b) FAIL: the consumer does not build against convbank 0.3.0 by version; SwiftPM says:"
    grep -E "error|warning" "$work/versioned.log" | sort -u
    status=1
fi
exit $status
