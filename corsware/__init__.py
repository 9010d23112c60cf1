"""corsware: correct, safe and fast CORS for any WSGI or ASGI application.

The public names are re-exported here; ``corsware.wsgi`` and ``corsware.asgi`` hold the
middleware.
"""

from __future__ import annotations

from ._decision import CORSDecision, RequestKind
from ._errors import CORSConfigError, Problem
from ._policy import CORSPolicy
from ._report import DecisionEvent

__all__ = ["CORSConfigError", "CORSDecision", "CORSPolicy", "DecisionEvent", "Problem", "RequestKind", "__version__"]

__version__ = "0.1.0"
