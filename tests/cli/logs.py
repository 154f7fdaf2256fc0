"""Capturing what the CLI's `mmreason` logger emits.

The commands' logger does not propagate to the root logger, where pytest's `caplog` listens, and where pytest puts
its handler for `caplog.at_level(logger=...)` changed between pytest 9.0 and 9.2; so tests attach their own handler.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from mmreason.cli.errors import configure_logging


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]):
        super().__init__(logging.INFO)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def mmreason_messages() -> Iterator[list[str]]:
    """Configure logging as the commands do and yield the list of messages logged under `mmreason.*`."""
    configure_logging()
    messages: list[str] = []
    handler = _Collect(messages)
    logger = logging.getLogger("mmreason")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
