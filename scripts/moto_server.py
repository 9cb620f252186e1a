"""A local DynamoDB- and SQS-compatible server: moto's server mode, for the tests and the demo.

Listens on 127.0.0.1 (port 0: a free one) and prints `listening on http://127.0.0.1:PORT` once it
accepts requests. Stops on SIGTERM or SIGINT, and, with --watch-parent, when the process that
started it ends (so a test binary that is killed leaves no server behind).

Every request runs alone: moto's backends are not thread-safe (a conditional PutItem reads the
item, checks the condition, then stores, and two requests at once can interleave between the
check and the store), whereas real DynamoDB and SQS make each request atomic. Without this, two
claims could both win under load, which the service never allows.
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--watch-parent", action="store_true", help="stop when the parent process ends")
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def atomic(environ, start_response):
        with one_at_a_time:
            return list(app(environ, start_response))

    server = make_server("127.0.0.1", args.port, atomic, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.watch_parent and os.getppid() != parent:
            break
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
