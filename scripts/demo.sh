#!/usr/bin/env bash
# The quick-start demo: start the emulator on a free loopback port, then validate, plan, apply and
# plan again (which must show no changes) on examples/manifests. Stops the emulator on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reconciler emulator --port "$port" >/tmp/reconciler-demo-emulator.log 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
export TELNYX_BASE_URL="http://127.0.0.1:$port/v2"
export TELNYX_API_KEY="${TELNYX_API_KEY:-demo-key}"
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/_emulator/stats" >/dev/null 2>&1 && break
  sleep 0.1
done
set -x
reconciler validate examples/manifests
reconciler plan examples/manifests
reconciler apply --auto-approve examples/manifests
reconciler plan --detailed-exitcode examples/manifests
