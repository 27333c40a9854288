#!/usr/bin/env bash
# Makes sure Debian's Samba AD DC is here for the Active Directory tests (test/ad), which provision and start
# a throwaway domain controller of their own. Nothing is started by the install, and the Debian units stay
# disabled. Installs what is missing when run as root, or says exactly what to install.
set -euo pipefail

packages=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules ldb-tools ldap-utils openssl)

have_samba() {
  { command -v samba >/dev/null 2>&1 || [ -x /usr/sbin/samba ]; } && command -v samba-tool >/dev/null 2>&1 && command -v ldapadd >/dev/null 2>&1
}

# The tests run their own instance; the system's must never come up at boot and hold ports 389/636.
disable_units() {
  if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then
    for unit in smbd nmbd winbind samba-ad-dc; do
      systemctl disable "$unit" >/dev/null 2>&1 || true
    done
  fi
}

if have_samba; then
  disable_units
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
ensure-samba: the Active Directory tests need Debian's Samba AD DC (${packages[*]}).
As root, run scripts/ensure-samba.sh: it installs them with a policy-rc.d that keeps anything from starting,
and leaves the smbd, nmbd, winbind and samba-ad-dc units disabled.
MSG
  exit 1
fi

echo "ensure-samba: installing ${packages[*]} (no service is started)" >&2

# Invoke-rc.d asks policy-rc.d whether it may start a service: 101 means "no". Whatever was there before
# (Docker images ship one) is put back afterwards, even when the install fails.
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then
  backup=$(mktemp)
  cp -p "$policy" "$backup"
fi
restore_policy() {
  if [ -n "$backup" ]; then
    cp -p "$backup" "$policy"
    rm -f "$backup"
  else
    rm -f "$policy"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}" >/dev/null
fi

disable_units

have_samba || { echo "ensure-samba: samba or samba-tool is still missing after the install" >&2; exit 1; }
