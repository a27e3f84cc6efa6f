#!/usr/bin/env bash
# Builds the release archives, one per target, and their checksums:
#
#   target/dist/tap-runbook-VERSION-x86_64-linux.tar.gz
#   target/dist/tap-runbook-VERSION-x86_64-windows.zip
#   target/dist/SHA256SUMS
#
# Each archive holds one folder, tap-runbook-VERSION-TARGET/, with the binary, hosts/,
# runbook.json, customization.schema.json, job-record.schema.json, README.md and LICENSE.
# VERSION is runbook.json's. The Linux binary is built with the default toolchain, the
# Windows one by scripts/windows-cross.sh (the Wine stand-in DLL is not shipped). Archive
# entries are sorted and stamped with the last commit's time, so the same commit gives the
# same archives.
#
# Environment: DIST (default target/dist); SKIP_BUILD=1 packages binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=${DIST:-$ROOT/target/dist}
FILES=(hosts runbook.json customization.schema.json job-record.schema.json README.md LICENSE)
LINUX_BIN=target/release/tap-runbook
WINDOWS_BIN=target/windows/x86_64-pc-windows-gnu/release/tap-runbook.exe

missing=()
for f in "${FILES[@]}"; do
  [[ -e $f ]] || missing+=("$f")
done
[[ -d hosts && -n $(ls -A hosts 2>/dev/null) ]] || [[ " ${missing[*]} " == *" hosts "* ]] || missing+=("hosts/ (empty)")
if ((${#missing[@]})); then
  echo "release: missing from the checkout: ${missing[*]}" >&2
  exit 1
fi

VERSION=$(python3 -c 'import json; print(json.load(open("runbook.json"))["version"])')
EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  echo "== Linux binary"
  cargo build --locked --release --bin tap-runbook
  echo "== Windows binary"
  scripts/windows-cross.sh
fi
for bin in "$LINUX_BIN" "$WINDOWS_BIN"; do
  [[ -f $bin ]] || { echo "release: $bin was not built" >&2; exit 1; }
done

rm -rf "$DIST"
mkdir -p "$DIST"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Copies the shipped files and one binary into $stage/NAME.
stage_folder() {
  local name=$1 bin=$2
  mkdir -p "$stage/$name"
  cp -R "${FILES[@]}" "$stage/$name/"
  find "$stage/$name/hosts" -name __pycache__ -prune -exec rm -rf {} +
  install -m 0755 "$bin" "$stage/$name/$(basename "$bin")"
}

linux=tap-runbook-$VERSION-x86_64-linux
stage_folder "$linux" "$LINUX_BIN"
tar -C "$stage" --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
  -cf - "$linux" | gzip -9n >"$DIST/$linux.tar.gz"

windows=tap-runbook-$VERSION-x86_64-windows
stage_folder "$windows" "$WINDOWS_BIN"
python3 - "$stage" "$windows" "$DIST/$windows.zip" "$EPOCH" <<'PY'
import os, sys, time, zipfile
stage, name, out, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# Zip times have two-second steps and no time zone; 1980 is the earliest they can say.
stamp = max(time.gmtime(epoch)[:6], (1980, 1, 1, 0, 0, 0))
paths = []
for folder, dirs, files in os.walk(os.path.join(stage, name)):
    paths += [os.path.join(folder, f) for f in files]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for path in sorted(paths):
        entry = zipfile.ZipInfo(os.path.relpath(path, stage).replace(os.sep, "/"), stamp)
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = (os.stat(path).st_mode & 0o777) << 16
        with open(path, "rb") as f:
            z.writestr(entry, f.read())
PY

(cd "$DIST" && sha256sum "$linux.tar.gz" "$windows.zip" >SHA256SUMS)

# What a user unpacks: one folder with every shipped file and the right binary, nothing else.
python3 - "$DIST" "$linux" "$windows" "${FILES[@]}" <<'PY'
import sys, tarfile, zipfile
dist, linux, windows, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
archives = {
    f"{linux}.tar.gz": (linux, "tap-runbook", tarfile.open(f"{dist}/{linux}.tar.gz").getnames()),
    f"{windows}.zip": (windows, "tap-runbook.exe", zipfile.ZipFile(f"{dist}/{windows}.zip").namelist()),
}
for archive, (folder, binary, names) in archives.items():
    tops = {n.rstrip("/").split("/")[1] for n in names if n.rstrip("/") != folder}
    outside = [n for n in names if n.split("/")[0] != folder]
    expected = set(files) | {binary}
    if outside or tops != expected:
        sys.exit(f"release: {archive} holds {sorted(tops)}, expected {sorted(expected)}"
                 + (f"; outside {folder}/: {outside}" if outside else ""))
PY
(cd "$DIST" && sha256sum -c --quiet SHA256SUMS)

ls -l "$DIST"
cat "$DIST/SHA256SUMS"
