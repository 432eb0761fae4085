"""HTTP API (FastAPI) under /api/v1: a thin shell that authenticates, checks the role, calls a service and
returns JSON; every error leaves as RFC 9457 problem details.

Run it with `zerocarbon serve`, or `uvicorn --factory zerocarbon.api:create_app` (database from $ZEROCARBON_DB).
"""
from zerocarbon.api.app import create_app

__all__ = ["create_app"]
