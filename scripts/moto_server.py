"""A local DynamoDB- and SQS-compatible server: moto's server mode, for the tests and the demo.

Listens on 127.0.0.1 (port 0: a free one) and prints `listening on http://127.0.0.1:PORT` once it
accepts requests. Stops on SIGTERM or SIGINT, and, with --watch-parent, when the process that
started it ends (so a test binary that is killed leaves no server behind).

Every request runs alone: moto's backends are not thread-safe (a conditional PutItem reads the
item, checks the condition, then stores, and two requests at once can interleave between the
check and the store), whereas real DynamoDB and SQS make each request atomic. Without this, two
claims could both win under load, which the service never allows.

TransactWriteItems backs up only the items it names (see `back_up_only_the_named_items`).
"""

import argparse
import copy
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def back_up_only_the_named_items() -> None:
    """moto's TransactWriteItems deep-copies every table a transaction names before applying it, to
    roll back on failure. That costs time and memory in proportion to the table: with a claim per
    event, a 2,000-record backlog made each transaction slower than the last and the server grew
    by hundreds of MB a minute, whereas DynamoDB's cost does not depend on the table's size. Here
    the items the transaction names (at most 100) are backed up instead, and on failure exactly
    those are put back as they were (an item that did not exist is removed again)."""
    import moto.dynamodb.models as dynamodb
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesAreNotCopied:
        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    dynamodb.copy = TablesAreNotCopied
    transact_write_items = dynamodb.DynamoDBBackend.transact_write_items

    def restore(table, hash_key, range_key, item):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            if hash_key in table.items:
                table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item

    def with_item_backups(self, transact_items):
        backups = []
        for entry in transact_items:
            operation = next(iter(entry.values()), None) if isinstance(entry, dict) else None
            table = self.tables.get(operation.get("TableName")) if isinstance(operation, dict) else None
            if table is None:
                continue
            key = operation.get("Key") or operation.get("Item") or {}
            try:
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError):
                continue  # moto answers the malformed request itself
            backups.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            return transact_write_items(self, transact_items)
        except Exception:
            for backup in reversed(backups):
                restore(*backup)
            raise

    dynamodb.DynamoDBBackend.transact_write_items = with_item_backups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--watch-parent", action="store_true", help="stop when the parent process ends")
    args = parser.parse_args()

    back_up_only_the_named_items()
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
