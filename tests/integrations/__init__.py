"""Flask, Django, Starlette/FastAPI, the other frameworks, and migrating from the peer libraries."""
