#!/bin/sh
# The real-stack guest's init (run by the image's /sbin/realstack-init from the 9p share, as PID 1's
# child): bring up D-Bus, bluetoothd and hci0 on the second serial port (the host's bumble
# controller), networking restricted to the host's broker, then serve the host's commands on the
# third serial port (runner.py) until the host says power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
log() { echo "realstack-guest: $*" >/dev/console; }
mkdir -p /run /tmp /var/lib/bluetooth
mountpoint -q /run || mount -t tmpfs tmpfs /run
mountpoint -q /tmp || mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/lib/bluetooth  # bonds live as long as the boot
for module in virtio_net bluetooth hci_uart; do modprobe "$module"; done

# qemu user networking: 10.0.2.2 is the host, 10.0.2.100 the forwarded broker (see qemu.py).
ip link set lo up
nic=""
for _ in $(seq 1 100); do  # no udev: wait for the virtio NIC's probe, whatever the kernel named it
  nic="$(ls /sys/class/net | grep -v '^lo$' | head -n 1)"
  [ -n "$nic" ] && break
  sleep 0.1
done
{ ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" && ip route add default via 10.0.2.2; } \
  || log "no network (interfaces: $(ls /sys/class/net | tr '\n' ' '))"

mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile || log "dbus-daemon failed"
stty -F /dev/ttyS1 115200 raw -echo
btattach -B /dev/ttyS1 -P h4 >/tmp/btattach.log 2>&1 &
for _ in $(seq 1 100); do [ -e /sys/class/bluetooth/hci0 ] && break; sleep 0.1; done
/usr/libexec/bluetooth/bluetoothd --nodetach >/tmp/bluetoothd.log 2>&1 &
for _ in $(seq 1 150); do
  bluetoothctl show 2>/dev/null | grep -q "Powered: yes" && break
  bluetoothctl power on >/dev/null 2>&1
  sleep 0.2
done
bluetoothctl show 2>/dev/null | grep -q "Powered: yes" && log "bluetooth ready" || log "hci0 not powered"

# The share is read-only and the image's libraries carry no bytecode: cache it on tmpfs, so only the
# first hub command of a boot compiles (under TCG that is most of a command's start-up).
export PYTHONPATH=/mnt/vg/src:/opt/vitalgate-site PYTHONPYCACHEPREFIX=/tmp/pycache HOME=/root
python3 /mnt/vg/tests/realstack/guest/runner.py /dev/ttyS2
