"""Coverage's tracer paused inside library calls that run none of the measured code.

On Python 3.11 coverage.py measures with a C trace function (``sys.settrace``). While a trace
function is installed, CPython runs every frame, measured or not, in its slow tracing mode (CPython
issue 93516: coverage's overhead about doubled from 3.10 to 3.11; ``sys.monitoring``, which avoids
it, needs 3.12): the fast tests took about 50 s more CPU under coverage, and a run that measured
nothing at all cost the same. Much of that is in libraries whose code is never measured: jsii's
kernel round trips (with typeguard's check of every CDK call's arguments) and botocore and moto
(sessions, clients, the in-process AWS behind every call).

:func:`install` wraps those entry points so that coverage's tracer is paused for their duration:
``CTracer.stop()`` only clears a flag (the next trace event uninstalls the tracer) and
``CTracer.start()`` installs it again, without touching the tracer's record of the frames it has
entered, so that record stays balanced. (Not ``sys.settrace(sys.gettrace())``: that would reinstall
the tracer as a Python-level trace function, much slower: coverage.py issue 397.) Callbacks from
Node into Python objects (the compliance packs, aspects, lazy values) run measured code: they are
traced again for their duration. tests/conftest.py installs this only in a process that runs
tests under coverage's tracer: ``make test-fast`` wraps nothing.

What coverage records is unchanged: tests/unit/test_untraced.py compares it line by line and arc by
arc on a sample; the whole suite's JSON report was identical with and without this.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# The tracers paused by the untraced calls in progress, innermost last.
_PAUSED: list[Any] = []


def coverage_tracer() -> Any | None:
    """Coverage's C tracer when it is the installed trace function, else None."""
    tracer = sys.gettrace()
    kind = type(tracer)
    if kind.__name__ == "CTracer" and kind.__module__.startswith("coverage"):
        return tracer
    return None


def untraced(function: F) -> F:
    """``function`` with coverage's tracer paused while it runs (when one is running)."""

    @functools.wraps(function)
    def paused(*args: Any, **kwargs: Any) -> Any:
        tracer = coverage_tracer()
        if tracer is None:
            return function(*args, **kwargs)
        _PAUSED.append(tracer)
        tracer.stop()
        try:
            return function(*args, **kwargs)
        finally:
            _PAUSED.pop()
            tracer.start()

    return paused  # type: ignore[return-value]


def traced(function: F) -> F:
    """``function``, when called back from inside an :func:`untraced` call, traced again."""

    @functools.wraps(function)
    def resumed(*args: Any, **kwargs: Any) -> Any:
        if not _PAUSED or sys.gettrace() is not None:
            return function(*args, **kwargs)
        tracer = _PAUSED[-1]
        tracer.start()
        try:
            return function(*args, **kwargs)
        finally:
            tracer.stop()

    return resumed  # type: ignore[return-value]


# jsii's module-level kernel calls, which the generated aws_cdk code calls as ``jsii.<name>``.
JSII_CALLS = ("create", "delete", "get", "set", "sget", "sset", "invoke", "sinvoke")


def install(patch: Callable[[Any, str, Any], None] = setattr) -> None:
    """Pause coverage inside jsii's kernel calls and typeguard's checks, and inside botocore's
    sessions, clients and API calls and moto's mocks; trace jsii's callbacks again.
    ``patch(owner, name, value)`` sets each (a test passes ``monkeypatch.setattr``)."""
    import boto3.session
    import botocore.client
    import botocore.session
    import jsii
    import jsii._kernel
    import jsii._type_checking
    from moto.core.models import MockAWS

    for name in JSII_CALLS:
        patch(jsii, name, untraced(getattr(jsii, name)))
    kernel: Any = jsii._kernel
    patch(kernel, "_handle_callback", traced(kernel._handle_callback))
    checks: Any = jsii._type_checking
    patch(checks, "_resolved_check", untraced(checks._resolve_check()))
    for owner, method in (
        (boto3.session.Session, "__init__"),
        (boto3.session.Session, "client"),
        (botocore.session.Session, "create_client"),
        (botocore.client.BaseClient, "_make_api_call"),
        (MockAWS, "start"),
        (MockAWS, "stop"),
    ):
        patch(owner, method, untraced(getattr(owner, method)))
