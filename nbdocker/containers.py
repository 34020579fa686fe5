"""Container commands, as far as images need them: run, ps, rm, logs."""
from __future__ import annotations
