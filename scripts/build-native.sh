#!/bin/sh
# Builds bootherd's compiled TFTP lock-step loop (native/tftp-fast.c -> build/tftp-fast.node).
# Run by `npm ci` / `npm install` (the "install" script) and by `npm run build:native`.
#
# It is optional: without a C compiler (or with --ignore-scripts) nothing is built, bootherd logs
# once that it uses the koffi path, and serves TFTP all the same, somewhat slower in lock-step.
# Needs only cc and libc headers (Debian: gcc, libc6-dev); the N-API headers come from the
# node-api-headers package, so no Node.js source or download is involved.
set -u
cd "$(dirname "$0")/.."
CC="${CC:-cc}"
out=build/tftp-fast.node
inc=node_modules/node-api-headers/include
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "bootherd: no C compiler ($CC): the compiled TFTP loop is not built; TFTP uses the koffi path (install gcc, then: npm run build:native)" >&2
  exit 0
fi
if [ ! -f "$inc/node_api.h" ]; then
  echo "bootherd: $inc/node_api.h is missing (run npm ci first): the compiled TFTP loop is not built" >&2
  exit 0
fi
mkdir -p build
if "$CC" -O2 -g -Wall -Wextra -Werror -std=gnu11 -shared -fPIC -fvisibility=hidden -I"$inc" -o "$out.tmp" native/tftp-fast.c; then
  mv -f "$out.tmp" "$out"
  echo "bootherd: built $out"
else
  rm -f "$out.tmp"
  echo "bootherd: compiling native/tftp-fast.c failed (above): TFTP uses the koffi path" >&2
fi
exit 0
