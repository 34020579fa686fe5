"""Make notebooks/data/layers-demo.tar: a small image archive with deliberate waste, for Binder.

    .venv/bin/python scripts/make_layers_archive.py [OUT]

Built from the local busybox image (classic builder, `--network none`), saved with `docker save`
(the legacy docker-archive this engine writes), then the image is removed. The waste is the
learner's classic: 1 MB downloaded by one line and deleted by the next, a file rewritten with the
same bytes, a chmod that copies a file up. About 3 MB: well under the 5 MB the repository allows.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 5_000_000
DOCKERFILE = """FROM busybox
RUN mkdir -p /app /data && head -c 1000000 /dev/urandom > /data/download.bin \\
 && echo 'print("hello")' > /app/main.py && echo "notes" > /app/README
RUN rm /data/download.bin
RUN echo 'print("hello")' > /app/main.py && chmod 600 /app/README
WORKDIR /app
CMD ["cat", "/app/main.py"]
"""


def make(out: Path) -> Path:
    """Build, save to `out` (written whole or not at all), remove the image."""
    tag = f"nbdocker-layers-demo-{uuid.uuid4().hex[:8]}:latest"
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "Dockerfile").write_text(DOCKERFILE)
        subprocess.run(["docker", "build", "-q", "--network", "none", "-t", tag, work], check=True,
                       capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    partial = out.with_name(out.name + ".partial")
    try:
        subprocess.run(["docker", "save", "-o", str(partial), tag], check=True)
        if partial.stat().st_size >= LIMIT:
            raise SystemExit(f"{partial.stat().st_size} bytes: over the {LIMIT} byte limit")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks" / "data" / "layers-demo.tar"
    print(make(target), target.stat().st_size, "bytes")
