#!/usr/bin/env bash
# fresh-machine.sh [ROOT] [TARGETS...] - what a newcomer meets: a Debian 12 minbase root made
# with debootstrap (no make, no git), this clone copied in, then the README's steps run inside
# it with their wall-clock times: apt-get install make git, then each make target (default:
# demo test). Run as root on a Debian machine; ROOT defaults to a new folder under /tmp and is
# left in place (delete it when done). The CA certificates of this machine are copied in so
# that npm works inside the root as it does here.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$(mktemp -d /tmp/mcz-fresh.XXXXXX)}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(demo test)
[[ $(id -u) == 0 ]] || { echo "fresh-machine.sh: run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }

t0=$(date +%s)
if [[ ! -x $root/bin/bash ]]; then
  echo "fresh-machine.sh: debootstrap minbase bookworm into $root (log: $root.debootstrap.log)"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
    > "$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log"; exit 1; }
fi
echo "debootstrap: $(( $(date +%s) - t0 )) s"
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/"
fi
rm -rf "$root/root/mcz"
git -C "$src" ls-files -z | (cd "$src" && cpio -0pdm --quiet "$root/root/mcz")
# /dev/pts too: the progress tests run the tools on a pseudo-terminal (script)
for d in proc sys dev dev/pts; do mountpoint -q "$root/$d" || mount --bind "/$d" "$root/$d"; done
trap 'for d in dev/pts dev sys proc; do umount -l "$root/$d" 2>/dev/null || true; done' EXIT
cp /etc/resolv.conf "$root/etc/resolv.conf"

step() { # NAME COMMAND: run COMMAND in the root, print its time
  local name=$1 s e; shift
  s=$(date +%s)
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
    bash -c "$*" > "$root.$name.log" 2>&1 || { tail -30 "$root.$name.log"; echo "FAIL: $name"; exit 1; }
  e=$(date +%s)
  echo "$name: $((e - s)) s ($(wc -l < "$root.$name.log") lines of output, $root.$name.log)"
}
step prerequisite "apt-get update -q && apt-get install -y -q make git ca-certificates && update-ca-certificates"
for t in "${targets[@]}"; do
  step "make-$t" "cd /root/mcz && make $t"
done
