"""The Telnyx API as reconciler talks to it: client.py (httpx, retries, pacing), endpoints.py (the pure
map of paths), reads.py, answers.py (error answers), pacing.py. The connection defaults live here, so
the CLI can show them without importing an HTTP client."""

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_REQUEST_TIMEOUT_S = 30.0  # --request-timeout: one request's wait for an answer
DEFAULT_DEADLINE_S = 600.0  # --deadline: a command's API work (waits it was told to do come on top)
