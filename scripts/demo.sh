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
# Wait (at most 10 s) until the emulator answers; Python, since a fresh machine may have no curl.
python - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_emulator/stats", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the emulator did not start")
PY
set -x
reconciler validate examples/manifests
reconciler plan examples/manifests
reconciler apply --auto-approve examples/manifests
reconciler plan --detailed-exitcode examples/manifests
