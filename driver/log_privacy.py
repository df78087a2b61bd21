"""Keeping URL paths out of log lines, for every HTTP request the driver makes.

urllib3 logs the URL path of retried (and, at debug level, of all) requests. A Make.com hook's path is its
secret and a presigned input URL's query is its signature, so paths never reach a log line, whichever module
made the request (webhook, input download, S3, Airtable).
"""

from __future__ import annotations

import logging


class HideUrlPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple("<path hidden>" if isinstance(a, str) and a.startswith("/") else a for a in record.args)
        return True


def install() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideUrlPaths) for f in logger.filters):
            logger.addFilter(HideUrlPaths())
