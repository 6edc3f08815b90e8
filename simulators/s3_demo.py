"""A local S3 server (moto in server mode, 127.0.0.1 only) with the buckets the S3 demo and tests use."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from moto.server import ThreadedMotoServer

from connectors.s3 import make_client

# moto accepts any key; these only exist so that boto3's credential chain finds something
DEMO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "mediarecon-demo", "AWS_SECRET_ACCESS_KEY": "mediarecon-demo-secret",
                    "AWS_REGION": "eu-west-3"}
SENDER_BUCKET = "mediarecon-sender"
WAREHOUSE_BUCKET = "mediarecon-landing"


class LocalS3:
    def __init__(self, port: int = 0):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.saved: dict[str, str | None] = {}

    def start(self) -> "LocalS3":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        for k, v in DEMO_CREDENTIALS.items():  # only where the environment has none
            self.saved[k] = os.environ.get(k)
            os.environ.setdefault(k, v)
        self.client = make_client(self.endpoint_url, os.environ["AWS_REGION"])
        for bucket in (SENDER_BUCKET, WAREHOUSE_BUCKET):
            try:
                self.client.create_bucket(Bucket=bucket,
                                          CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
            except self.client.exceptions.BucketAlreadyOwnedByYou:
                pass  # moto keeps its buckets for the whole process
        self.inbox_url = f"s3://{SENDER_BUCKET}/inbox"
        self.landing_url = f"s3://{WAREHOUSE_BUCKET}/landing"
        self.validated_url = f"s3://{WAREHOUSE_BUCKET}/validated"
        self.env = {"MEDIARECON_S3_ENDPOINT_URL": self.endpoint_url, "MEDIARECON_S3_REGION": os.environ["AWS_REGION"],
                    "MEDIARECON_S3_INBOX_URL": self.inbox_url, "MEDIARECON_LANDING_URL": self.landing_url,
                    "MEDIARECON_VALIDATED_URL": self.validated_url}
        for k, v in self.env.items():
            self.saved.setdefault(k, os.environ.get(k))
            os.environ[k] = v
        return self

    def upload_inbox(self, inbox: Path) -> int:
        n = 0
        for path in sorted(Path(inbox).rglob("*")):
            if path.is_file():
                self.client.upload_file(str(path), SENDER_BUCKET, f"inbox/{path.relative_to(inbox).as_posix()}")
                n += 1
        return n

    def stop(self) -> None:
        self.server.stop()
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
