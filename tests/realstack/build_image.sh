#!/usr/bin/env bash
# Build (or reuse) the real-stack guest: Debian bookworm (kernel 6.1, BlueZ 5.66, dbus, python3)
# by debootstrap, plus the hub's Python libraries (guest-requirements.txt), as an ext4 image with
# its kernel and initrd beside it. The project's own source is NOT baked in: the guest mounts the
# work tree over 9p at run time, so a code change never invalidates the cache.
#
# Cache: ${VITALGATE_REALSTACK_CACHE:-~/.cache/vitalgate-realstack}/<hash of the build inputs>/.
# Prints that directory on the last line of stdout. Needs root (debootstrap) and network access
# to the Debian archive and PyPI (debootstrap's default mirror, pip's configured index).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${VITALGATE_REALSTACK_PYTHON:-python3}"
inputs=("$here/build_image.sh" "$here/guest-requirements.txt" "$here/boot-init")
key="$(cat "${inputs[@]}" | sha256sum | cut -c1-16)"
cache="${VITALGATE_REALSTACK_CACHE:-$HOME/.cache/vitalgate-realstack}"
out="$cache/$key"
if [[ -f "$out/ready" ]]; then
  echo "$out"
  exit 0
fi
if [[ -n "${VITALGATE_REALSTACK_CHECK_ONLY:-}" ]]; then
  exit 4  # asked only whether the image is cached: it is not
fi
for tool in debootstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "realstack image: $tool is not installed" >&2; exit 3; }
done
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9  # two test runs building at once would debootstrap twice into the same place
if [[ -f "$out/ready" ]]; then echo "$out"; exit 0; fi

start=$SECONDS
work="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "realstack image: debootstrap bookworm into $root" >&2
debootstrap --variant=minbase \
  --include=linux-image-amd64,initramfs-tools,bluez,dbus,python3,iproute2,kmod,procps,util-linux \
  bookworm "$root" >"$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

echo "realstack image: hub libraries (guest-requirements.txt)" >&2
# Same Python (3.11, bookworm) on both sides: the host's pip installs wheels for the guest.
"$python" -m pip install --quiet --disable-pip-version-check --no-compile --only-binary=:all: \
  --target "$root/opt/vitalgate-site" -r "$here/guest-requirements.txt" 2>&1 | grep -v "^WARNING: Location" >&2 || true
"$python" - "$root/opt/vitalgate-site" <<'PY'
import pathlib, sys
missing = [m for m in ("bleak", "bleak_retry_connector", "dbus_fast", "paho", "pydantic", "typer")
           if not (pathlib.Path(sys.argv[1]) / m).exists()]
sys.exit(f"realstack image: pip did not install {missing}" if missing else 0)
PY

install -m 0755 "$here/boot-init" "$root/sbin/realstack-init"
mkdir -p "$root/mnt/vg"
echo "vitalgate-realstack" >"$root/etc/hostname"
# A fixed machine id: dbus-daemon refuses to start without one.
echo "5f1d7a0b9c2e4d3f8a6b1c0d2e3f4a5b" >"$root/etc/machine-id"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
  "$root"/usr/share/man "$root"/usr/share/locale

mkdir -p "$work/out"
cp "$root"/boot/vmlinuz-* "$work/out/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/out/initrd.img"
size_mb=$(( $(du -sm "$root" | cut -f1) * 13 / 10 + 64 ))
mkfs.ext4 -q -F -L vgroot -d "$root" "$work/out/rootfs.ext4" "${size_mb}M"
{ echo "built in $((SECONDS - start)) s"; dpkg-query --admindir="$root/var/lib/dpkg" -W bluez linux-image-amd64 python3; } >"$work/out/build.txt"
touch "$work/out/ready"
rm -rf "$out"
mv "$work/out" "$out"
echo "realstack image: built in $((SECONDS - start)) s ($out)" >&2
echo "$out"
