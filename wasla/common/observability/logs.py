"""Structured logs: one JSON object a line in production, readable lines in the demo.

Every line, whether it comes from structlog or from the standard library's `logging` (Django's
own, the `logging.getLogger(__name__)` of each module), goes through the same processors
(structlog's `ProcessorFormatter`): the bound context (`request_id`, `tenant`,
`payment_attempt`, `webhook_event`, carried into Celery tasks by `celery_context`), the level,
the logger's name, an ISO time in UTC, and last of all `redact`, which masks what must never be
written down: the values of secret-looking keys (secret, password, token, authorization, cvc,
otp, ...), card numbers (13 to 19 digits that pass Luhn) and provider secrets in free text
(`sk_live_...`, `whsec_...`, `Bearer ...`).

The context lives in context variables (structlog's contextvars), so it follows the request or
task that bound it and never another thread's. Apps above `common` add their own context with
`log_context_source_add` (the tenant scope is kept by `wasla.tenants`), read when a line is
written, so a line always names the scope it was written in.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# The ids a line carries (and a Celery message takes along), in this order.
CONTEXT_KEYS = ("request_id", "tenant", "payment_attempt", "webhook_event")

REDACTED = "[redacted]"
MASKED_PAN = "[card]"

# Keys whose value is never written, whatever it is (matched anywhere in the key, any case).
_SECRET_KEY = re.compile(
    r"secret|passw|passphrase|token|authori[sz]ation|api[_-]?key|private[_-]?key|cookie|"
    r"session|csrf|signature|hashstring|cvc|cvv|cvn|card[_-]?(number|num|no)\b|\bpan\b|"
    r"otp|totp|pin\b|encryption[_-]?key|fernet",
    re.IGNORECASE,
)
# Secrets that announce themselves inside free text (a message, an exception, a URL).
_SECRET_TEXT = re.compile(
    r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9+/=_-]+|"
    r"\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+",
    re.IGNORECASE,
)
# 13 to 19 digits, possibly grouped by single spaces or dashes: a card number if Luhn agrees.
# A query parameter whose name says secret (`?token=...`, `&signature=...`): its value goes.
_SECRET_PARAM = re.compile(
    r"([?&;][^=&\s]{0,64}(?:token|secret|key|signature|sig|otp|passw|auth)[^=&\s]{0,64}=)"
    r"[^&#\s'\"]+",
    re.IGNORECASE,
)
# A secret-named field inside text (a JSON or form body in a message): `"secret": "..."`,
# `password=...`; its value goes.
_SECRET_FIELD = re.compile(
    r"""(["']?[\w-]{0,64}(?:secret|passw|token|otp|cvc|cvv|card_?number|api_?key)[\w-]{0,64}["']?"""
    r"""\s*[:=]\s*["']?)([^"'\s,&}]+)""",
    re.IGNORECASE,
)
_PAN_CANDIDATE = re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return MASKED_PAN if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


# A log line's text is cut here before it is read: a request line can carry a megabyte of query
# string (a client's, or an attacker's), which no reader wants and the masks would scan at length.
MAX_TEXT = 16_384


def redact_text(text: str) -> str:
    """`text` with provider secrets and card numbers masked (cut to MAX_TEXT characters)."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"…[{len(text) - MAX_TEXT} characters cut]"
    text = _SECRET_TEXT.sub(REDACTED, text)
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SECRET_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
    return _PAN_CANDIDATE.sub(_mask_pan, text)


def is_secret_key(key: object) -> bool:
    return bool(_SECRET_KEY.search(str(key)))


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of `value` with secret-looking keys and secrets in text masked (nested dicts,
    lists and tuples too, to a sane depth)."""
    if depth > 8:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_secret_key(k) else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (a Decimal, a UUID, Django's request object a record carries) as its
    # text, masked: the JSON renderer would otherwise write its repr unread.
    return redact_text(str(value))


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every key and value of the line (run last, after
    the exception is formatted, so a traceback's text is masked too)."""
    return {
        key: REDACTED if is_secret_key(key) and key not in _SAFE_KEYS else redact_value(value)
        for key, value in event_dict.items()
    }


# Keys of our own that match the secret pattern by name but hold nothing secret.
_SAFE_KEYS = frozenset({"event", "logger", "level", "timestamp"})

# --- context -------------------------------------------------------------------------------

_sources: list[Callable[[], Mapping[str, Any]]] = []


def log_context_source_add(source: Callable[[], Mapping[str, Any]]) -> None:
    """Add context read when each line is written (e.g. the current tenant scope)."""
    if source not in _sources:
        _sources.append(source)


def _add_sources(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    for source in _sources:
        try:
            extra = source()
        except Exception:  # noqa: S112 - a log line never fails because of its context
            continue
        for key, value in extra.items():
            if value is not None:
                event_dict.setdefault(key, str(value))  # ids are strings on every line
    return event_dict


def log_context_bind(**ids: Any) -> None:
    """Bind ids to every later line of this request or task (None values are skipped)."""
    structlog.contextvars.bind_contextvars(**{k: str(v) for k, v in ids.items() if v is not None})


def log_context_get() -> dict[str, str]:
    """The carried ids now, bound or from the sources (what a Celery message takes along)."""
    found = dict(_add_sources(None, "", {}))
    found.update(structlog.contextvars.get_contextvars())
    return {k: str(found[k]) for k in CONTEXT_KEYS if found.get(k) is not None}


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Bind ids for a block; what was bound before comes back after."""
    with structlog.contextvars.bound_contextvars(
        **{k: str(v) for k, v in ids.items() if v is not None}
    ):
        yield


F = TypeVar("F", bound=Callable[..., Any])


def log_context_from(**paths: str) -> Callable[[F], F]:
    """Decorator: bind ids read from the call's keyword (or first positional) arguments for
    the call, e.g. `@log_context_from(payment_attempt="attempt_id")` or
    `@log_context_from(payment_attempt="attempt.id")`; what was bound before comes back after.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ids: dict[str, Any] = {}
            for key, path in paths.items():
                name, _, attribute = path.partition(".")
                value = kwargs.get(name, args[0] if args and name not in kwargs else None)
                if attribute and value is not None:
                    value = getattr(value, attribute, None)
                ids[key] = value
            with log_context(**ids):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is sane (1-128 of [A-Za-z0-9._:-]), else a new one."""
    if header and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


# --- configuration -------------------------------------------------------------------------


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        _add_sources,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def logging_config(*, fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """Django's LOGGING: every stdlib record through structlog's processors, rendered as JSON
    (`fmt="json"`) or as readable console lines (`fmt="console"`). Also configures structlog
    itself, so `structlog.get_logger()` lines take the same road."""
    if fmt not in ("json", "console"):
        raise ValueError("log format must be json or console")
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_shared_processors(), structlog.stdlib.ExtraAdder()],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact,
                    renderer,
                ],
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "stripe": {"level": "WARNING"},
            "django.server": {"level": "WARNING"},
            # Django logs every SQL statement with its parameters at DEBUG: never written.
            "django.db.backends": {"level": "INFO"},
        },
    }


def structured_formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter of `logging_config` on its own (tests attach it to a handler of theirs)."""
    config = logging_config(fmt=fmt)["formatters"]["structured"]
    factory = config.pop("()")
    return factory(**config)  # type: ignore[no-any-return]
