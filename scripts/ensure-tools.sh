#!/usr/bin/env bash
# Makes sure the programs the tests and the demo run are here: Debian's slapd and ldap-utils (no system
# instance is configured or started: every run starts its own throwaway slapd), and for the tests a running
# PostgreSQL on 127.0.0.1:5432. Installs what is missing when run as root, or says exactly what to install.
set -euo pipefail
need_postgres=${1:-}

if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ] || ! command -v ldapsearch >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: installing Debian's slapd and ldap-utils (no system instance is configured)" >&2
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null
  else
    cat >&2 <<'MSG'
ensure-tools: slapd and ldap-utils are needed. As root, run:
  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils
MSG
    exit 1
  fi
fi

if [ "$need_postgres" = "--postgres" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      echo "ensure-tools: starting PostgreSQL $version" >&2
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "ensure-tools: the tests need PostgreSQL on 127.0.0.1:5432 (user postgres, database test, trust auth)" >&2
    exit 1
  fi
fi
