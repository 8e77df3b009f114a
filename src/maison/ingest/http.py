"""Reading a tracking request as Segment clients send it: size limits, gzip, JSON, write key."""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import orjson
from starlette.requests import Request

from maison.core.errors import MalformedBody, PayloadTooLarge


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, decompressed, refusing anything over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    encoding = (request.headers.get("content-encoding") or "identity").lower()
    if encoding not in ("identity", "gzip"):
        raise MalformedBody(f"Content-Encoding {encoding!r} is not supported; use gzip or none")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if encoding == "gzip":
        body = _gunzip(body, limit=limit)
    return body


def _gunzip(data: bytes, *, limit: int) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit + 1)
        if len(out) > limit or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"decompressed body exceeds the limit of {limit} bytes")
        if not decompressor.eof:
            raise MalformedBody("the gzip body is truncated")
    except zlib.error:
        raise MalformedBody("the body is not valid gzip") from None
    return out


def parse_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise MalformedBody("the request body is empty; send a JSON object")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict):
        raise MalformedBody("the body must be a JSON object")
    return value


def basic_auth_user(request: Request) -> str | None:
    """The write key from HTTP Basic auth (key as user name, empty password), if sent."""
    header = request.headers.get("authorization")
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise MalformedBody("the Authorization header is not valid Basic auth") from None
    return decoded.split(":", 1)[0] or None
