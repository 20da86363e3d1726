"""Slow clients against a running server: do they starve it?

Opens --clients connections that each start a POST (to /login, the sign-in form) and then send
its body one byte every --interval seconds, while a probe asks GET /login every half second and
records how long each answer takes. Bounded in time (--seconds) and count; talks to the given
loopback address only. Prints the probe's answers and their latency.

    PORT=5102 scripts/serve.sh &                  # gevent workers (gunicorn.conf.py)
    .venv/bin/python scripts/slow_clients.py --url http://127.0.0.1:5102 --clients 20 --seconds 20
"""
from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit


def trickle(host: str, port: int, stop: threading.Event, interval: float, opened: list) -> None:
    """One slow client: headers at once, then the body a byte at a time until told to stop."""
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError:
        return
    opened.append(1)
    body_length = 100_000
    try:
        sock.sendall((f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                      f"application/x-www-form-urlencoded\r\nContent-Length: {body_length}\r\n\r\n")
                     .encode())
        sent = 0
        while not stop.wait(interval) and sent < body_length:
            sock.sendall(b"a")
            sent += 1
    except OSError:
        pass  # the server gave up on us: that is allowed
    finally:
        sock.close()


def probe(host: str, port: int, stop: threading.Event, answers: list) -> None:
    """GET /login every half second on a fresh connection; (status or error, seconds)."""
    while not stop.is_set():
        started = time.monotonic()
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, time.monotonic() - started))
        except OSError as exc:
            answers.append((type(exc).__name__, time.monotonic() - started))
        finally:
            connection.close()
        stop.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5102")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    host, port = parts.hostname, parts.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only a server on this machine (loopback) may be targeted")
    stop = threading.Event()
    opened: list = []
    answers: list = []
    slow = [threading.Thread(target=trickle, args=(host, port, stop, args.interval, opened),
                             daemon=True) for _ in range(min(args.clients, 1000))]
    for thread in slow:
        thread.start()
    time.sleep(1)  # let every slow client start its request first
    checker = threading.Thread(target=probe, args=(host, port, stop, answers), daemon=True)
    checker.start()
    time.sleep(args.seconds)
    stop.set()
    checker.join(15)
    for thread in slow:
        thread.join(5)
    ok = [seconds for status, seconds in answers if status == 200]
    print(f"slow clients: {len(opened)} connected, trickling 1 byte every {args.interval:g} s "
          f"for {args.seconds:g} s")
    print(f"probe GET /login: {len(answers)} asked, {len(ok)} answered 200, "
          f"{len(answers) - len(ok)} failed or timed out")
    if ok:
        print(f"  latency: median {statistics.median(ok) * 1000:.0f} ms, "
              f"max {max(ok) * 1000:.0f} ms")
    failures = sorted({str(status) for status, _ in answers if status != 200})
    if failures:
        print(f"  failures: {', '.join(failures)}")


if __name__ == "__main__":
    main()
