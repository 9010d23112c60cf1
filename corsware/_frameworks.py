"""Recognise a wrapped app that brings its own CORS handling, which corsware makes dead.

corsware answers every CORS preflight before the app sees it and drops the
``Access-Control-*`` headers of the app's responses for its own (see
``corsware._headers.merge_response_headers``), so a framework's built-in CORS under
corsware never takes effect: its settings only mislead whoever reads them. Where the
framework records that configuration on the app object itself, the middleware says so when
it is built. Detection is duck-typed (the core imports no framework) and sees only the
object it is given: an app wrapped in other middleware first is not looked into.
"""

from __future__ import annotations

from ._log import logger

__all__ = ["framework_cors", "warn_framework_cors"]

_FRAMEWORKS = frozenset({"litestar", "falcon"})


def _attribute(obj: object, name: str) -> object:
    try:
        return getattr(obj, name, None)
    except Exception:  # a property that fails: nothing to report
        return None


def framework_cors(app: object) -> tuple[str, str] | None:
    """``(what the app has, what to remove)`` when ``app`` carries CORS handling of its own, else None.

    - Litestar: ``Litestar(cors_config=CORSConfig(...))`` (``app.cors_config``);
    - Falcon (``falcon.App``, ``falcon.asgi.App``): ``cors_enable=True``, or a
      ``falcon.CORSMiddleware`` among the app's middleware.
    """
    # The first class of the app's MRO that a framework defines (a subclass of
    # falcon.App or litestar.Litestar is recognised too).
    framework = next((c for c in type(app).__mro__ if c.__module__.partition(".")[0] in _FRAMEWORKS), None)
    if framework is None:
        return None
    if framework.__module__.startswith("litestar"):
        if _attribute(app, "cors_config") is not None:
            return f"litestar.{framework.__qualname__}(cors_config=...)", "cors_config"
        return None
    # Falcon documents its apps as falcon.App and falcon.asgi.App.
    name = ("falcon.asgi." if framework.__module__.startswith("falcon.asgi") else "falcon.") + framework.__qualname__
    if _attribute(app, "_cors_enable") is True:
        return f"{name}(cors_enable=True)", "cors_enable=True"
    middleware = _attribute(app, "_unprepared_middleware")
    if isinstance(middleware, list):
        for component in middleware:
            ctype = type(component)
            if ctype.__name__ == "CORSMiddleware" and ctype.__module__.partition(".")[0] == "falcon":
                return f"{name}(middleware=[falcon.CORSMiddleware(...)])", "falcon.CORSMiddleware"
    return None


def warn_framework_cors(app: object, middleware: str) -> None:
    """Log a WARNING when ``app`` has CORS handling of its own (see :func:`framework_cors`)."""
    found = framework_cors(app)
    if found is not None:
        has, remove = found
        logger.warning(
            "%s wraps an app built as %s: corsware answers every CORS preflight before the app sees it "
            "and replaces the Access-Control-* headers of its responses, so the app's own CORS "
            "configuration never takes effect. Remove %s from the app and keep the policy in corsware "
            "(docs/frameworks.md).",
            middleware,
            has,
            remove,
        )
