"""The function's work queue on the local SQS-compatible server (moto), for `make demo` and `make moto`.

  create                 creates the queue (if it does not exist) and prints its URL
  receive BATCH_FILE     receives up to 10 messages and writes them as the SQS event Lambda's event
                         source mapping would send; prints how many (0: the queue is empty)
  settle BATCH_FILE ANSWER_FILE
                         deletes the batch's messages the function's answer does not report failed
                         (`batchItemFailures`); the failed ones become visible again at once

A sweep sends its work items to this queue (WORK_QUEUE_URL); in AWS the event source mapping hands
them to the function, here `make demo` does, with these commands.
"""

import argparse
import json
import sys

import boto3

QUEUE_NAME = "cases-automation-work"


def client(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="the SQS-compatible server, e.g. http://127.0.0.1:4567")
    parser.add_argument("command", choices=["create", "receive", "settle"])
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    sqs = client(args.endpoint)

    if args.command == "create":
        # The visibility timeout of a record the function reports failed is shortened at settle.
        url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        print(url)
        return

    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    if args.command == "receive":
        (batch_file,) = args.files
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        records = [{
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:" + QUEUE_NAME,
            "awsRegion": "us-east-1",
        } for m in messages]
        with open(batch_file, "w") as out:
            json.dump({"Records": records}, out)
        print(len(records))
        return

    batch_file, answer_file = args.files
    records = json.load(open(batch_file))["Records"]
    raw = open(answer_file).read()
    try:
        answer = json.loads(raw[raw.index("{"):])
    except ValueError:
        sys.exit("the function's answer is not JSON: " + raw[:200])
    if "errorType" in answer:
        failed = {r["messageId"] for r in records}
    else:
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
    for record in records:
        if record["messageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    print(len(failed))


if __name__ == "__main__":
    main()
