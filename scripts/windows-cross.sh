#!/usr/bin/env bash
# Cross-builds tap-runbook for x86_64-pc-windows-gnu on Debian 12 and prepares Wine to run it.
#
#   scripts/windows-cross.sh            # the release .exe and the Wine stand-in DLL
#   scripts/windows-cross.sh --tests    # also the integration-test binary, for a run under Wine
#
# Environment: TARGET_DIR (default target/windows, apart from the host build so neither
# invalidates the other), PROFILE (release), DEBIAN_RUST (/usr/bin, Debian's rustc-web).
#
# Why this way: rustup cannot add targets here, so Debian's rustc-web builds the standard
# library from its own source (rust-web-src) with -Zbuild-std, which RUSTC_BOOTSTRAP=1 allows
# on a stable compiler. mingw-w64 links and compiles aws-lc-sys's C, NASM its assembly. Wine 8
# has no bcryptprimitives.dll, which every Rust >= 1.78 Windows binary imports, so a stand-in
# built from scripts/wine/bcryptprimitives.c is put beside the .exe (for Wine only; it is
# never released). Apt is skipped when the packages are present; everything else is
# incremental, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TRIPLE=x86_64-pc-windows-gnu
TARGET_DIR=${TARGET_DIR:-$ROOT/target/windows}
PROFILE=${PROFILE:-release}
DEBIAN_RUST=${DEBIAN_RUST:-/usr/bin}
BUILD_TESTS=false
for arg in "$@"; do
  case $arg in
    --tests) BUILD_TESTS=true ;;
    *) echo "usage: $0 [--tests]" >&2; exit 64 ;;
  esac
done
PACKAGES=(python3 rustc-web cargo-web rust-web-src libstd-rust-web-dev gcc-mingw-w64-x86-64 nasm wine wine64)

# Prints how long the previous step took, then the next step's name.
STEP_NAME='' STEP_START=$SECONDS
step() {
  [[ -n $STEP_NAME ]] && printf '== %-44s %4ds\n' "$STEP_NAME" $((SECONDS - STEP_START))
  STEP_NAME=$1 STEP_START=$SECONDS
  [[ -n $STEP_NAME ]] && echo "== $STEP_NAME ..."
  return 0
}

step "apt packages"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) = 0 ]] || { echo "missing packages ${missing[*]}; run as root or install them" >&2; exit 1; }
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # rustc-web 1.96 comes from bookworm-security.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all present"
fi

step "toolchain check"
# By absolute path: rustup's cargo usually comes first in PATH and would otherwise build with
# its own rustc, which has no Windows std.
RUSTC=$DEBIAN_RUST/rustc
CARGO=$DEBIAN_RUST/cargo
version=$("$RUSTC" -V | awk '{print $2}')
std_src=$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library
# The std source must be the very release of the compiler, or core fails with "unknown lang item".
case "$(readlink -f "$std_src")" in
  */rustc-"$version"/library) ;;
  *) echo "std source at $std_src is not rustc $version's (install rust-web-src)" >&2; exit 1 ;;
esac
"$RUSTC" -V

step "cargo build --target $TRIPLE ($PROFILE)"
export RUSTC RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$TARGET_DIR
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
build=("$CARGO" build --locked --target "$TRIPLE" -Zbuild-std=std,panic_unwind --profile "$PROFILE")
"${build[@]}" --bin tap-runbook
OUT=$TARGET_DIR/$TRIPLE/$PROFILE
dirs=("$OUT")
if $BUILD_TESTS; then
  step "cargo test --no-run --target $TRIPLE ($PROFILE)"
  "$CARGO" test --locked --target "$TRIPLE" -Zbuild-std=std,panic_unwind --profile "$PROFILE" \
    --no-run --message-format=json-render-diagnostics \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["profile"]["test"] and m.get("executable"):
        print(m["executable"])' >"$OUT/test-binaries.txt"
  cat "$OUT/test-binaries.txt"
  dirs+=("$OUT/deps")
fi

step "Wine stand-in bcryptprimitives.dll"
shim_src=scripts/wine/bcryptprimitives.c
for d in "${dirs[@]}"; do
  if [[ ! $d/bcryptprimitives.dll -nt $shim_src ]]; then
    x86_64-w64-mingw32-gcc -shared -O2 -s -o "$d/bcryptprimitives.dll" "$shim_src" -ladvapi32
  fi
done
echo "imports of tap-runbook.exe: $(x86_64-w64-mingw32-objdump -p "$OUT/tap-runbook.exe" \
  | awk '/DLL Name/ {print $3}' | sort -u | tr '\n' ' ')"
ls -l "$OUT/tap-runbook.exe"
step ""
