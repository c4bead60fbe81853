"""An app factory for ``uvicorn --factory`` with several worker processes.

It reads the environment when uvicorn calls it in each worker, never at import time.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from stopspread.config import load_settings
from stopspread.web.app import create_app

__all__ = ["app_from_environment"]


def app_from_environment() -> FastAPI:
    return create_app(load_settings(os.environ))
