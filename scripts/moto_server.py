"""A local DynamoDB- and SQS-compatible server: moto's server mode, for the tests and the demo.

Listens on 127.0.0.1 (port 0: a free one) and prints `listening on http://127.0.0.1:PORT` once it
accepts requests. Stops on SIGTERM or SIGINT, and, with --watch-parent, when the process that
started it ends (so a test binary that is killed leaves no server behind).

Every request runs alone: moto's backends are not thread-safe (a conditional PutItem reads the
item, checks the condition, then stores, and two requests at once can interleave between the
check and the store), whereas real DynamoDB and SQS make each request atomic. Without this, two
claims could both win under load, which the service never allows.

TransactWriteItems backs up only the items it names (see `back_up_only_the_named_items`), and a
queue's messages are counted only when asked (see `count_messages_only_when_asked`).
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


def count_messages_only_when_asked() -> None:
    """moto's queue attributes count the queue's messages (three passes over every message, each
    reading the clock) whenever any attribute is read, and SendMessage and ReceiveMessage read one
    once per message. A batch then costs time in proportion to the queue's length: with 1,000
    messages waiting, a SendMessageBatch took half a second, and ten sent at once (requests run one
    at a time here) outlasted the SDK's attempt timeout, so the SDK sent them again and the queue
    held duplicates. SQS's cost does not grow with the queue. Here the counts are computed only
    when GetQueueAttributes is asked for them."""
    from moto.core.utils import camelcase_to_underscores
    from moto.sqs.models import Queue, SQSBackend

    counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible")
    count_properties = {camelcase_to_underscores(name) for name in counts}
    attributes = Queue.attributes.fget
    get_queue_attributes = SQSBackend.get_queue_attributes

    class WithoutCounts:
        def __init__(self, queue):
            self.queue = queue

        def __getattr__(self, name):
            return None if name in count_properties else getattr(self.queue, name)

    def stored_attributes(self):
        result = attributes(WithoutCounts(self))
        for name in counts:
            result.pop(name, None)
        return result

    def with_counts_when_asked(self, queue_name, attribute_names):
        answer = get_queue_attributes(self, queue_name, attribute_names)
        queue = self.get_queue(queue_name)
        for name in counts:
            if "All" in attribute_names or name in attribute_names:
                answer[name] = getattr(queue, camelcase_to_underscores(name))
        return answer

    Queue.attributes = property(stored_attributes)
    SQSBackend.get_queue_attributes = with_counts_when_asked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--watch-parent", action="store_true", help="stop when the parent process ends")
    args = parser.parse_args()

    back_up_only_the_named_items()
    count_messages_only_when_asked()
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
