"""The WSGI and ASGI adapters, mounting, and the shared case table through every in-process runner."""
