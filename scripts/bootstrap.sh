#!/usr/bin/env bash
# Install the host packages the project needs (Debian 12). Never touches apt
# sources: Asterisk comes from a sid chroot the lab builds, not from the host.
set -euo pipefail
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v redis-server >/dev/null || need+=(redis-server)
# The ticket tests run on a private PostgreSQL cluster (lab/postgres.py) as well as SQLite.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# The web pages are tested in Debian's headless chromium (Playwright drives it; it downloads no browser).
command -v chromium >/dev/null || need+=(chromium)
# ...and its screenshots show Chinese, not boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-zenhei)
# The lab makes a carrier trunk stop answering (outbound failover) by dropping its packets with nftables.
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need+=(nftables)
# The tests validate docker-compose.yml; Debian's docker-compose does when no compose plugin exists.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  # Debian starts its own redis service; the project runs its own on another port.
fi
