"""An npm registry the tests write as files: a package's description and tarball, read through file:// URLs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path


def publish(registry: Path, name: str, version: str, files: dict[str, bytes], *, tamper: bool = False) -> None:
    """Publish ``tonejs-instrument-<name>-mp3`` at ``version`` as the registry serves it: its description, and its
    tarball of ``files`` with the integrity hash (``tamper``: the tarball served differs from the hash)."""
    package = f"tonejs-instrument-{name}-mp3"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    data = out.getvalue()
    tarball = registry / f"{package}-{version}.tgz"
    tarball.write_bytes(data + b"x" if tamper else data)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    description = {"name": package, "dist-tags": {"latest": version},
                   "versions": {version: {"dist": {"tarball": tarball.as_uri(), "integrity": integrity}}}}
    (registry / package).write_text(json.dumps(description))
