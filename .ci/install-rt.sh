#!/usr/bin/env bash
# Install Debian's Request Tracker 5 (SQLite database, standalone server) for the RT
# connector tests. Idempotent: does nothing when the three packages are already installed.
# Unattended: debconf is preseeded (SQLite, dbconfig-common sets the database up) and
# DEBIAN_FRONTEND=noninteractive; the package's own service is never started (the tests
# start rt-server themselves on a copy of the database the package initialises).
set -euo pipefail

packages=(request-tracker5 rt5-db-sqlite rt5-standalone)

installed() {
  local package
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || return 1
  done
  [ -f /var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb ]
}

if installed; then
  echo "install-rt: Request Tracker 5 is already installed"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

started=$(date +%s)
as_root debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/rtname string rt.itbot.test
request-tracker5 request-tracker5/install-cronjobs boolean false
EOF

install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${packages[@]}"
}
# A fresh machine may have no package lists yet: update once, only when needed.
if ! install >/tmp/install-rt.log 2>&1; then
  as_root apt-get update -qq
  install >/tmp/install-rt.log 2>&1 || { tail -n 40 /tmp/install-rt.log; exit 1; }
fi

if ! installed; then
  tail -n 40 /tmp/install-rt.log
  echo "install-rt: the packages installed but RT's SQLite database is missing" >&2
  exit 1
fi
echo "install-rt: Request Tracker 5 installed in $(( $(date +%s) - started )) s"
