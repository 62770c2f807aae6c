"""Log lines: a JSON (orjson) and a text formatter that carry a record's `extra` fields, and the
logging setup of `polytag serve` (polytag's and uvicorn's loggers, all to stderr).

What is logged is chosen by the callers, never dumped: request lines carry the route, the status
and ids, never a query string or a body (they hold access tokens, UserSigs and secrets)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
          "info": logging.INFO, "debug": logging.DEBUG, "trace": 5}  # trace: uvicorn's own level
FORMATS = ("json", "text")
# attributes every LogRecord has; anything else on a record came in through `extra=`
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "color_message", "taskName"}  # color_message: uvicorn's colored copy


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra` fields, in the order they were given."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def _time(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the extra fields, exc (traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"time": _time(record), "level": record.levelname.lower(),
                               "logger": record.name, "message": record.getMessage()}
        doc.update(fields(record))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in fields(record).items())
        line = f"{_time(record)} {record.levelname} {record.name} {record.getMessage()}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def config(level: str, fmt: str = "json") -> dict[str, Any]:
    """A dictConfig for uvicorn's `log_config`: polytag's and uvicorn's loggers at `level`, in
    `fmt`, on stderr (stdout keeps only the ready line)."""
    number = LEVELS[level.lower()]
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    logger = {"handlers": ["stderr"], "level": number, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"polytag": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "polytag",
                                "stream": "ext://sys.stderr"}},
        "loggers": {"polytag": dict(logger), "uvicorn": dict(logger), "uvicorn.access": dict(logger),
                    "uvicorn.error": {"level": number}},
    }
