"""A local DynamoDB- and SQS-compatible server: moto's server mode, for the tests and the demo.

Listens on 127.0.0.1 (port 0: a free one) and prints `listening on http://127.0.0.1:PORT` once it
accepts requests. Stops on SIGTERM or SIGINT, and, with --watch-parent, when the process that
started it ends (so a test binary that is killed leaves no server behind).
"""

import argparse
import os
import signal
import sys
import threading

from moto.server import ThreadedMotoServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--watch-parent", action="store_true", help="stop when the parent process ends")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"listening on http://{host}:{port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.watch_parent and os.getppid() != parent:
            break
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
