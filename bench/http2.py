"""Does HTTP/2 (httpx[http2]) help reconciler's traffic? HTTP/1.1 against HTTP/2 over TLS, same server.

The Telnyx API is reached over https, where HTTP/2 would multiplex the requests in flight over one
connection instead of one connection each. This measures what that is worth to the client: a Hypercorn
server (it speaks both) on 127.0.0.1, with a certificate from a `trustme` CA, answers every GET after
`--latency-ms` with a listing-sized JSON body; `ApiClient`-like traffic (`--n` GETs, `--parallelism`
in flight, as a plan reads versions and canaries) is sent with httpx's transport, once per protocol,
in a fresh process each so the client's CPU time is its own. Prints wall and CPU time per protocol.

Needs hypercorn, h2 and trustme (not dependencies of reconciler): pip install hypercorn h2 trustme
Usage: python bench/http2.py [--n 1000] [--latency-ms 50] [--parallelism 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BODY = json.dumps({"data": [{"id": f"v{i}", "name": f"version-{i}", "greeting": "Hello there " * 8}
                            for i in range(6)], "meta": {"total_pages": 1}}).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stand-in API: every request waits `latency` seconds and answers BODY."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await asyncio.sleep(LATENCY[0])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


LATENCY = [0.05]


def serve(port_file: str, cert: str, key: str, latency: float) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    LATENCY[0] = latency
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.certfile, config.keyfile = cert, key
    config.alpn_protocols = ["h2", "http/1.1"]
    config.loglevel = "ERROR"
    config.accesslog = None

    async def main() -> None:
        await hypercorn_serve(app, config, shutdown_trigger=asyncio.Event().wait)  # type: ignore[arg-type,unused-ignore]

    # Hypercorn binds inside serve(); a fixed free port is simpler to announce than to discover.
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config.bind = [f"127.0.0.1:{port}"]
    Path(port_file).write_text(str(port))
    asyncio.run(main())


def client(url: str, ca: str, n: int, parallelism: int, http2: bool) -> None:
    """reconciler's own ApiClient (its sharded pools, its retries) sending `n` GETs."""
    import os

    os.environ["SSL_CERT_FILE"] = ca
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from reconciler.api.client import ApiClient, gather_all

    async def main() -> str:
        async with ApiClient(f"{url}/v2", "bench-key", parallelism=parallelism, http2=http2) as api:
            await gather_all(*(api.request("GET", f"/ai/assistants/a{i}/versions") for i in range(n)))
        import httpx

        async with httpx.AsyncClient(http2=http2) as probe:  # which protocol the server agreed to
            return (await probe.get(url)).http_version

    t0 = time.perf_counter()
    protocol = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "protocol": protocol}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.serve[2], float(args.serve[3]))
        return 0
    if args.client:
        client(args.client[0], args.client[1], args.n, args.parallelism, args.client[2] == "h2")
        return 0
    try:
        import h2  # noqa: F401
        import hypercorn  # noqa: F401
        import trustme
    except ImportError as exc:
        print(f"needs hypercorn, h2 and trustme ({exc.name} is missing): pip install hypercorn h2 trustme")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        ca_file, cert_file, key_file = (str(Path(tmp) / n) for n in ("ca.pem", "cert.pem", "key.pem"))
        ca.cert_pem.write_to_path(ca_file)
        cert.cert_chain_pems[0].write_to_path(cert_file)
        cert.private_key_pem.write_to_path(key_file)
        port_file = str(Path(tmp) / "port")
        server = subprocess.Popen([sys.executable, __file__, "--serve", port_file, cert_file, key_file,
                                   str(args.latency_ms / 1000)])
        try:
            for _ in range(100):
                if Path(port_file).exists():
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # let it bind
            url = f"https://127.0.0.1:{Path(port_file).read_text()}"
            results: dict[str, list[dict[str, Any]]] = {"h1": [], "h2": []}
            for _ in range(args.rounds):
                for proto in ("h1", "h2"):  # interleaved, so machine load hits both alike
                    out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--parallelism",
                                          str(args.parallelism), "--client", url, ca_file, proto],
                                         capture_output=True, text=True, check=True).stdout
                    results[proto].append(json.loads(out.strip().splitlines()[-1]))
        finally:
            server.terminate()
            server.wait(timeout=10)
    bound = math.ceil(args.n / args.parallelism) * args.latency_ms / 1000  # whole round trips
    print(f"HTTP/1.1 vs HTTP/2 over TLS: {args.n} GETs, {args.parallelism} in flight, {args.latency_ms:.0f} ms "
          f"(bound {bound:.2f} s), {args.rounds} rounds")
    for proto, runs in results.items():
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        cpus = ", ".join(f"{r['cpu_s']:.2f}" for r in runs)
        print(f"  {proto} ({runs[0]['protocol']}): wall {walls} s; client CPU {cpus} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
