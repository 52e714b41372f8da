"""Logging where every record is one line that no visitor can forge.

Values logged may come from visitors (a CSP report's fields, a header): a
newline in one would start a line that looks like another record ("login ok:
method=franceconnect account=1"). Every record's message is therefore
rendered once, at creation, with its control characters escaped, whatever
handler then writes it (gunicorn's, the console, pytest's). Tracebacks,
which are several lines by nature, are indented under their record, so no
continuation line can pass for a record of its own.
"""

from __future__ import annotations

import logging
import re
import sys

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_base_factory = logging.getLogRecordFactory()


def escape_control(text: str) -> str:
    r"""``"a\nb"`` -> ``"a\\x0ab"``: the character stays visible, the line stays one line."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def _escaping_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed call must not lose the record
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = escape_control(message), ()
    return record


def _indented(text: str) -> str:
    return "\n".join("    | " + escape_control(line) for line in text.splitlines())


class OneLineFormatter(logging.Formatter):
    """A record on one line; its traceback, if any, indented beneath it.

    ``format`` is redone rather than extended: the base class reuses a
    traceback another handler already formatted (``record.exc_text``), unindented.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_control(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info:
            text += "\n" + _indented(self.formatException(record.exc_info))
        elif record.exc_text:
            text += "\n" + _indented(record.exc_text)
        if record.stack_info:
            text += "\n" + _indented(record.stack_info)
        return text


def install(console: bool = True) -> None:
    """Escape every record of this process; give the root logger a console handler if it has none.

    Idempotent: the factory is installed once, whatever the number of applications created.
    """
    if logging.getLogRecordFactory() is not _escaping_factory:
        logging.setLogRecordFactory(_escaping_factory)
    root = logging.getLogger()
    if console and not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
