#!/usr/bin/env bash
# The quick-start demo: start the emulator on a free loopback port, then validate, plan, apply and
# plan again (which must show no changes) on examples/manifests. Stops the emulator on exit and on
# HUP/INT/TERM/PIPE (`make demo | head -3`), and is gone when the script is.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reconciler emulator --port "$port" >/tmp/reconciler-demo-emulator.log 2>&1 &
emulator=$!

stop_emulator() {
  # SIGPIPE ignored from here: the reader of our output may be gone, and one more write to it would
  # kill the shell before the emulator is stopped. Waited for, so it is gone when we are.
  trap '' PIPE
  if [ -n "$emulator" ]; then
    kill "$emulator" 2>/dev/null || true
    wait "$emulator" 2>/dev/null || true
    emulator=
  fi
}

on_signal() {  # $1 the signal's name, $2 its number
  stop_emulator
  # Die of the same signal, so the caller (make, a CI runner) sees how we ended; 128 + number if the
  # signal cannot end us (one ignored when the shell started stays ignored).
  trap - EXIT "$1"
  kill -s "$1" $$
  exit $((128 + $2))
}

# Each trap first turns `set -x` off where its own trace cannot be written (`{ set +x; } 2>/dev/null`):
# traced, the cleanup would write to a closed pipe and the shell die of that SIGPIPE before the kill.
# The EXIT trap leaves the script's exit status as it was.
trap '{ set +x; } 2>/dev/null; stop_emulator' EXIT
for sig in HUP:1 INT:2 TERM:15 PIPE:13; do
  # shellcheck disable=SC2064  # expanded now, on purpose: one trap per signal
  trap "{ set +x; } 2>/dev/null; on_signal ${sig%:*} ${sig#*:}" "${sig%:*}"
done
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
