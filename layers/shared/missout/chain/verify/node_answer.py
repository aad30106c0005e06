"""Reading a node's answer through solders without letting its panics escape.

solders parses several fields of a `getTransaction` answer lazily (token balance mints and owners,
lookup-table addresses, the signed transaction's bytes) and, on a value that does not parse, panics in
Rust: pyo3 raises `PanicException`, which derives from `BaseException`, not `Exception`, so it would pass
through every `except Exception` up to the Lambda runtime. Whatever a node sends is input, never a
crash: a panic while reading it is the node's malformed answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from missout.chain.verify.reasons import RejectReason, VerificationFailed


def is_solders_panic(exc: BaseException) -> bool:
    # pyo3 does not export the class (its module, `pyo3_runtime`, is not importable): match it by name.
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


@contextmanager
def node_answer_panics_refused(what: str) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:
        if not is_solders_panic(exc):
            raise
        raise VerificationFailed(RejectReason.MALFORMED_TRANSACTION, f"{what}: {exc}") from None
