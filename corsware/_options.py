"""The one list of ``CORSPolicy`` option names.

``CORSPolicy``'s signature, ``PolicyOptions`` (the middleware's ``**options``), the
validator's keywords, ``describe()``, the ``CORSWARE_*`` variables and the README's options
table are derived from it or checked against it (tests/core/test_architecture.py).
"""

from __future__ import annotations

from typing import Final

__all__ = ["OPTION_NAMES", "VALIDATED_OPTIONS"]

#: Every keyword ``CORSPolicy`` accepts, in documentation order.
OPTION_NAMES: Final = (
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "allow_credentials",
    "allow_origin_regex",
    "expose_headers",
    "max_age",
    "allow_private_network",
    "allow_origin_callback",
    "paths",
    "dangerously_allow_null_origin",
    "dangerously_allow_insecure_origins",
    "dangerously_allow_public_suffix_patterns",
    "preflight_cache_size",
)

#: The options ``corsware._validate.validate`` checks; ``paths`` and
#: ``preflight_cache_size`` are the policy's own (rules and caches, not settings).
VALIDATED_OPTIONS: Final = tuple(name for name in OPTION_NAMES if name not in ("paths", "preflight_cache_size"))
