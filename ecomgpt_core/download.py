"""Downloading one file whose SHA-256 is known: the bytes come back only when they hash as expected, and every
failure is one `DownloadError` line naming the file and what to do (a 404, an unreachable host, a hash mismatch
with both hashes). Shared by `ecomgpt fetch` (the evaluation sets) and `ecomgpt-data fetch` (raw and held-out
training data).

Written on the standard library's urllib rather than a download library (pooch, huggingface_hub): the callers need
one progress bar in bytes over many files, a transformation of the verified upstream bytes before they are
published (`ecomgpt_data.fetch`), and errors worded for this project's commands; none of those libraries offers
the three together, and urllib adds no dependency.
"""

from __future__ import annotations

import errno
import hashlib
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.openai_client import redact

RETRIES = 3
TIMEOUT_S = 60
CHUNK = 1 << 16


class DownloadError(EcomGPTError):
    """A file could not be downloaded, or its bytes are not the ones expected."""


def file_url(base_url: str, *parts: str) -> str:
    """`base_url` joined with path parts, each percent-quoted (upstream names hold spaces and `+`)."""
    return "/".join([base_url.rstrip("/"), *(urllib.parse.quote(part, safe="/") for part in parts)])


def disk_full_message(target: object) -> str:
    return (f"the disk is full while writing {target}; free some space and run the command again (files already "
            "verified are kept and not downloaded again)")


def is_disk_full(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def _transient(error: Exception) -> bool:
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    if isinstance(error, urllib.error.URLError):
        return not isinstance(error.reason, socket.gaierror)  # a name that does not resolve stays so
    return isinstance(error, (TimeoutError, ConnectionError))


def _explain(error: Exception, url: str, what: str, hint: str) -> str:
    shown = redact(url)
    if isinstance(error, urllib.error.HTTPError):
        if error.code == 404:
            return f"{what}: not found (HTTP 404) at {shown}; {hint}"
        return f"{what}: the server answered HTTP {error.code} for {shown}; retry later, or {hint}"
    reason = getattr(error, "reason", error)
    if isinstance(reason, socket.gaierror):
        host = urllib.parse.urlsplit(url).hostname
        return (f"{what}: cannot resolve {host} (offline, or a DNS failure); connect to the network and run the "
                f"command again, or {hint}")
    return f"{what}: could not download {shown} ({redact(reason)}); check the network and run the command again"


def download_verified(url: str, sha256: str, size: int | None = None, *, what: str, hint: str,
                      progress=None) -> bytes:
    """The bytes at `url`, checked against `sha256`. `what` names the file in messages and `hint` says what to do
    about a missing file; `progress` (a tqdm bar in bytes) is advanced as bytes arrive, and wound back when a
    transient failure makes an attempt start again."""
    for attempt in range(1, RETRIES + 1):
        received = 0
        try:
            digest, chunks = hashlib.sha256(), []
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                while chunk := response.read(CHUNK):
                    digest.update(chunk)
                    chunks.append(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress.update(len(chunk))
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if progress is not None and received:
                progress.update(-received)
            if attempt == RETRIES or not _transient(error):
                raise DownloadError(_explain(error, url, what, hint)) from None
            time.sleep(2 ** attempt)
    data = b"".join(chunks)
    actual = digest.hexdigest()
    if actual != sha256 or (size is not None and len(data) != size):
        raise DownloadError(f"{what}: {redact(url)} has sha256 {actual} ({len(data):,} bytes), expected {sha256}"
                            + (f" ({size:,} bytes)" if size is not None else "")
                            + "; nothing was written. The mirror or the download is corrupt: retry, or check --base-url")
    return data
