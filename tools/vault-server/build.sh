#!/usr/bin/env bash
# Build the HashiCorp Vault server binary (github.com/hashicorp/vault@v1.21.4)
# from the Go module proxy and cache it outside the repository.
#
# Prints the absolute path of the binary as the only line on stdout; all
# progress goes to stderr. If a working cached binary exists, no build happens.
#
# Env:
#   OPENCLAW_VAULT_CACHE  cache root (default: $HOME/.cache/openclaw-vault)
#   GOPROXY, GOMODCACHE, GOCACHE, ...  honoured as usual by the go command
set -euo pipefail

VAULT_VERSION=1.21.4
VAULT_BUILD_DATE=2026-03-05T01:40:05Z
SDK_MODULE=github.com/hashicorp/vault/sdk
SDK_VERSION=v0.21.0 # what vault v1.21.4's go.mod requires (see go.mod/go.sum)

# Keep stdout clean: everything goes to stderr, the final path to fd 3.
exec 3>&1 1>&2

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
cache_root=${OPENCLAW_VAULT_CACHE:-${HOME:?HOME is not set}/.cache/openclaw-vault}
mkdir -p -- "$cache_root/vault-$VAULT_VERSION"
out_dir=$(cd -- "$cache_root/vault-$VAULT_VERSION" && pwd -P)
out="$out_dir/vault"

cached_ok() {
  [[ -x "$out" ]] && "$out" version 2>/dev/null | grep -q "^Vault v$VAULT_VERSION"
}

if cached_ok; then
  printf '%s\n' "$out" >&3
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found in PATH (Go >= 1.25.3 is needed to build Vault $VAULT_VERSION)"
  exit 1
fi

echo "build.sh: building Vault $VAULT_VERSION with $(go version); a cold build takes ~10 min on 2 cores plus ~3.8 GB of module downloads..."
start=$SECONDS

# Build in a temp dir on the same filesystem as the cache, then rename
# atomically so an interrupted build never leaves a broken cached binary.
tmp_dir=$(mktemp -d "$out_dir/.build.XXXXXX")
child=
trap 'rm -rf -- "$tmp_dir"' EXIT
# On INT/TERM/HUP also stop a running `go build` (it would otherwise go on).
trap '[[ -n "$child" ]] && kill "$child" 2>/dev/null; exit 130' INT TERM HUP

cd -- "$script_dir"
export GOWORK=off CGO_ENABLED=0
# go.mod/go.sum are committed and complete: no `go mod tidy`, nothing written.
gomod_flags=(-mod=readonly -buildvcs=false)

# --- sdk fix-up ---------------------------------------------------------------
# Vault's release/1.21.x branch builds against its in-repo ./sdk (a replace
# directive that only applies inside the vault repo). That sdk was never
# published as a module version: v0.21.0 (the version vault's go.mod requires)
# differs from it in two APIs used by vault v1.21.4:
#   * framework.Backend.ActivationFunc takes (ctx, req) - v0.21.0 added a
#     third string argument;
#   * keysutil.LockManager.RestorePolicy returns (string, error) - the change
#     published in sdk v0.24.0.
# No published sdk version has both, so we build in a temp copy of this module
# whose go.mod replaces the sdk with a copy of sdk v0.21.0 (verified against
# go.sum) carrying that two-spot patch. The repo and module cache are not
# modified; the patch is checked to have applied exactly.
echo "build.sh: downloading modules (cached in $(go env GOMODCACHE))..."
go mod download # verifies everything against go.sum
sdk_dir=$(go list "${gomod_flags[@]}" -m -f '{{.Dir}}' "$SDK_MODULE")
if [[ "$(go list "${gomod_flags[@]}" -m -f '{{.Version}}' "$SDK_MODULE")" != "$SDK_VERSION" || ! -d "$sdk_dir" ]]; then
  echo "build.sh: expected $SDK_MODULE@$SDK_VERSION in the build list (dir: '$sdk_dir')"
  exit 1
fi

work="$tmp_dir/mod"
mkdir -p -- "$work"
cp -- go.mod go.sum "$work/"
cp -R -- "$sdk_dir" "$work/sdk"
chmod -R u+w -- "$work/sdk"

# 1) framework/backend.go: ActivationFunc back to two arguments.
sed 's/^\tActivationFunc func(context\.Context, \*logical\.Request, string) error$/\tActivationFunc func(context.Context, *logical.Request) error/' \
  "$sdk_dir/framework/backend.go" >"$work/sdk/framework/backend.go"

# 2) helper/keysutil/lock_manager.go: RestorePolicy returns the restored name.
sed '/^func (lm \*LockManager) RestorePolicy(/,/^}/{
  s/force bool) error {$/force bool) (string, error) {/
  s/^\(\t*\)return nil$/\1return name, nil/
  /return name, nil$/!s/^\(\t*\)return /\1return "", /
}' "$sdk_dir/helper/keysutil/lock_manager.go" >"$work/sdk/helper/keysutil/lock_manager.go"

changed() { diff "$sdk_dir/$1" "$work/sdk/$1" | grep -c '^>' || true; }
n1=$(changed framework/backend.go)
n2=$(changed helper/keysutil/lock_manager.go)
if [[ "$n1" != 1 || "$n2" != 9 ]]; then
  echo "build.sh: sdk patch did not apply as expected (changed lines: backend.go=$n1, want 1; lock_manager.go=$n2, want 9)"
  exit 1
fi
cd -- "$work"
go mod edit -replace="$SDK_MODULE=./sdk"
dl_elapsed=$((SECONDS - start))

# --- build --------------------------------------------------------------------
# No `ui` build tag -> no embedded web UI. CGO is not needed.
echo "build.sh: compiling (modules ready after ${dl_elapsed}s)..."
# BuildDate = the v1.21.4 tag time (proxy .info); otherwise vault reports
# "now minus one year" and the output of `vault version` changes every run.
go build "${gomod_flags[@]}" -trimpath \
  -ldflags="-s -w -X github.com/hashicorp/vault/version.BuildDate=$VAULT_BUILD_DATE" \
  -o "$tmp_dir/vault" \
  github.com/hashicorp/vault &
child=$!
wait "$child"
child=
elapsed=$((SECONDS - start))

"$tmp_dir/vault" version
mv -f -- "$tmp_dir/vault" "$out"

size=$(du -h -- "$out" | cut -f1)
echo "build.sh: built $out ($size) in $((elapsed / 60))m$((elapsed % 60))s (module download/verify: ${dl_elapsed}s)"

if ! cached_ok; then
  echo "build.sh: built binary does not report Vault v$VAULT_VERSION"
  exit 1
fi
printf '%s\n' "$out" >&3
