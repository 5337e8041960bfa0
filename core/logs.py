"""Logging for the app and the CLI: one format, and a filter that masks personal data in every record."""
from __future__ import annotations

import logging

from core.masking import mask_personal_data

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class MaskingFilter(logging.Filter):
    """Masks the message, its arguments, the traceback and the stack of a record before any handler writes it.

    Arguments stay arguments (formatters such as uvicorn's access log unpack them); objects that are
    neither text nor numbers are replaced by their masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_personal_data(record.msg if isinstance(record.msg, str) else str(record.msg))
        if isinstance(record.args, dict):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_masked_arg(a) for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def _masked_arg(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    return mask_personal_data(value if isinstance(value, str) else str(value))


_FILTER = MaskingFilter()


def install_masking_filter() -> None:
    """Adds the masking filter to every handler configured so far (root, named loggers, the last resort).

    Handler filters see the records that propagate from child loggers too, unlike logger filters."""
    loggers = [logging.getLogger(), *(lg for lg in logging.Logger.manager.loggerDict.values()
                                      if isinstance(lg, logging.Logger))]
    handlers = {h for lg in loggers for h in lg.handlers}
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(_FILTER)


def setup_logging(level: int = logging.INFO) -> None:
    """Root logs to stderr in LOG_FORMAT unless something (uvicorn, pytest) configured handlers already;
    then every handler masks. Safe to call more than once."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(level)
    install_masking_filter()
