"""Registry commands: push, pull, login."""
from __future__ import annotations
