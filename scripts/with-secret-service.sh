#!/bin/sh
# Runs a command with a real Secret Service (the freedesktop keychain API) on the session bus, so
# the keychain provider's tests run against a real daemon, never a mock.
#
#   scripts/with-secret-service.sh cargo test ...
#
# - If the current session bus already has a Secret Service, the command runs on it.
# - Else, with dbus-run-session and gnome-keyring-daemon installed, the command runs on a private
#   session bus with a throwaway gnome-keyring: its "login" collection is created with a random
#   password and unlocked, under a temporary HOME/XDG_DATA_HOME (given to the daemon only), so no
#   real keyring is read or written. Everything is gone when the command ends.
# - Else the command runs without one; the tests that need it say they were skipped.
#   With CI_REQUIRE_SECRET_SERVICE=1 that is an error instead: CI must never skip them.
#
# In both first cases OPENCLAW_VAULT_TEST_SECRET_SERVICE=1 is exported: the tests' signal that a
# Secret Service is there. The script exits with the command's status.
#
# Debian packages (CI installs them; dbus-run-session comes with dbus, secret-tool with libsecret-tools):
#   apt-get install -y --no-install-recommends gnome-keyring dbus dbus-user-session libsecret-tools
# CI wraps its test commands:
#   CI_REQUIRE_SECRET_SERVICE=1 bash scripts/with-secret-service.sh cargo test --locked --target "$target" --workspace
#   CI_REQUIRE_SECRET_SERVICE=1 bash scripts/with-secret-service.sh npm test
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

say() { echo "with-secret-service: $*" >&2; }

# fail_or_skip <why> <command...>: stops under CI_REQUIRE_SECRET_SERVICE=1, else runs the command
# without a Secret Service.
fail_or_skip() {
  why=$1
  shift
  if [ "${CI_REQUIRE_SECRET_SERVICE:-}" = 1 ]; then
    say "ERROR: $why"
    say "CI_REQUIRE_SECRET_SERVICE=1: refusing to run the keychain tests without a Secret Service"
    exit 1
  fi
  say "WARNING: $why; running without a Secret Service (keychain tests will be skipped)"
  exec "$@"
}

# True when the session bus named by DBUS_SESSION_BUS_ADDRESS answers and a Secret Service owns
# its well-known name (activation alone is not enough: it could start one on a real keyring).
secrets_owned() {
  dbus-send --session --print-reply=literal --reply-timeout=2000 --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
    2>/dev/null | grep -q true
}

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-send >/dev/null && secrets_owned; then
  say "using the Secret Service already on the session bus"
  OPENCLAW_VAULT_TEST_SECRET_SERVICE=1 exec "$@"
fi

missing=""
for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  fail_or_skip "no Secret Service on the session bus and missing:$missing (Debian: gnome-keyring dbus dbus-user-session libsecret-tools)" "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/openclaw-vault-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/runtime"
chmod 700 "$tmp/runtime"

# Runs inside dbus-run-session: $1 is the temporary dir, the rest is the command. The private bus
# (and with it the daemon, which quits when its bus goes away) ends when the command does.
inner='
set -eu
tmp=$1
shift
say() { echo "with-secret-service: $*" >&2; }
secrets_owned() {
  dbus-send --session --print-reply=literal --reply-timeout=2000 --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
    2>/dev/null | grep -q true
}
password=$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")
# --unlock reads the password on stdin and creates the "login" collection with it when there is
# none; it becomes the default collection, the one keyring and secret-tool write to.
if ! printf "%s" "$password" | env HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" \
  XDG_CONFIG_HOME="$tmp/config" XDG_RUNTIME_DIR="$tmp/runtime" \
  gnome-keyring-daemon --unlock --components=secrets >"$tmp/daemon.env" 2>"$tmp/daemon.log"; then
  say "gnome-keyring-daemon failed to start:"
  cat "$tmp/daemon.log" >&2
  exit 1
fi
# The daemon claims its bus name just after forking; wait for it (at most 5 s) so nothing on the
# bus activates a second daemon on the real HOME.
tries=0
until secrets_owned; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    say "gnome-keyring-daemon never took org.freedesktop.secrets:"
    cat "$tmp/daemon.log" >&2
    exit 1
  fi
  sleep 0.05
done
# Smoke check: a write to and a read from the default collection, as the tests will do.
probe="smoke-$$"
if ! printf "%s" "$probe" | secret-tool store --label=openclaw-vault-smoke openclaw-vault-smoke "$probe" \
  || [ "$(secret-tool lookup openclaw-vault-smoke "$probe")" != "$probe" ]; then
  say "the throwaway keyring does not store and read back a secret:"
  cat "$tmp/daemon.log" >&2
  exit 1
fi
secret-tool clear openclaw-vault-smoke "$probe"
# Tells the outer script that any failure from here on is the command'"'"'s own.
: >"$tmp/ready"
export OPENCLAW_VAULT_TEST_SECRET_SERVICE=1
"$@"
'

set +e
dbus-run-session -- sh -c "$inner" sh "$tmp" "$@"
status=$?
set -e
if [ ! -e "$tmp/ready" ]; then
  # The command never ran: the bus or the daemon failed (the reason is printed above).
  if [ "${CI_REQUIRE_SECRET_SERVICE:-}" = 1 ]; then
    say "ERROR: could not start a throwaway Secret Service (CI_REQUIRE_SECRET_SERVICE=1)"
    exit 1
  fi
  say "WARNING: could not start a throwaway Secret Service; running without it (keychain tests will be skipped)"
  set +e
  "$@"
  exit $?
fi
exit "$status"
