"""The layers explorer: what each layer (each Dockerfile line) put in an image, and what it wastes.

`analyze(image_or_archive)` reads an image from the engine (`GET /images/get`, streamed) or an
archive file (docker-archive, Docker 25+, OCI) in one pass, and returns an `Analysis`: a result to
show, dive's numbers, a CI gate (`.check()`) and dive's JSON (`.write_json()`).
"""
from __future__ import annotations

from nbdocker.layers.analysis import Analysis
from nbdocker.layers.source import analyze, analyze_archive, analyze_image

__all__ = ["Analysis", "analyze", "analyze_archive", "analyze_image"]
