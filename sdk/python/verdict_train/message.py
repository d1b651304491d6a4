"""Raw RFC 5322 bytes to the text a spam model reads (docs/textclf-features.md, section 1).

Deliberately not Python's email package: every rule here is mirrored byte for byte by
plugins/textclf/message.c, and the two must produce the same pieces."""

import base64
import re

MAX_DEPTH = 8
MAX_PARTS = 64
MAX_BYTES = 1 << 20  # the plugin's default max_bytes: the rest of a message is ignored
LATIN1_CHARSETS = {b"iso-8859-1", b"latin1", b"latin-1", b"iso-8859-15", b"windows-1252",
                   b"cp1252"}


def split_head_body(raw):
    """Headers (list of (name, value) bytes, names lower-case) and body bytes."""
    raw = raw.replace(b"\r\n", b"\n")
    if raw.startswith(b"From "):
        nl = raw.find(b"\n")
        raw = raw[nl + 1:] if nl >= 0 else b""
    if raw.startswith(b"\n"):  # an empty first line: no headers at all
        return [], raw[1:]
    end = raw.find(b"\n\n")
    head, body = (raw, b"") if end < 0 else (raw[:end], raw[end + 2:])
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
        else:
            colon = line.find(b":")
            if colon > 0:
                headers.append((line[:colon].strip(b" \t").lower(), line[colon + 1:].strip(b" \t")))
    return headers, body


def header(headers, name):
    for n, v in headers:
        if n == name:
            return v
    return b""


def to_utf8(data, charset):
    """Latin-1 family charsets to UTF-8; anything else is kept as it is."""
    if charset.lower() in LATIN1_CHARSETS:
        return data.decode("latin-1").encode("utf-8")
    return data


_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def decode_words(value):
    """RFC 2047 encoded words in a header value (B and Q encodings)."""
    def one(m):
        charset, enc, text = m.group(1), m.group(2).lower(), m.group(3)
        if enc == b"b":
            data = b64decode(text)
        else:
            data = qp_decode(text.replace(b"_", b" "))
        return to_utf8(data, charset)
    return _ENCODED_WORD.sub(one, value)


def b64decode(data):
    """Base64: bytes outside the alphabet are skipped, decoding stops at the first '=', and a
    last group of 2 or 3 characters gives 1 or 2 bytes (a lone last character is dropped)."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    clean = bytearray()
    for c in data:
        if c == 0x3D:
            break
        if c in alphabet:
            clean.append(c)
    rest = len(clean) % 4
    if rest == 1:
        del clean[-1]
    elif rest:
        clean += b"=" * (4 - rest)
    return base64.b64decode(bytes(clean))


def qp_decode(data):
    """Quoted-printable: =XX escapes and soft line breaks; a malformed '=' stays as it is."""
    out = bytearray()
    i, n = 0, len(data)
    hexdigits = b"0123456789abcdefABCDEF"
    while i < n:
        c = data[i]
        if c == 0x3D:  # '='
            if i + 1 < n and data[i + 1] == 0x0A:
                i += 2
                continue
            if i + 2 < n and data[i + 1] in hexdigits and data[i + 2] in hexdigits:
                out.append(int(data[i + 1:i + 3], 16))
                i += 3
                continue
        out.append(c)
        i += 1
    return bytes(out)


def content_type(headers):
    """(type/subtype, {param: value}) with lower-case type and parameter names."""
    value = header(headers, b"content-type")
    parts = value.split(b";")
    ctype = parts[0].strip(b" \t").lower()[:127] or b"text/plain"
    params = {}
    for p in parts[1:]:
        eq = p.find(b"=")
        if eq > 0:
            params[p[:eq].strip(b" \t").lower()] = p[eq + 1:].strip(b" \t").strip(b'"')
    return ctype, params


def split_multipart(body, boundary):
    """The parts between '--boundary' lines, up to the closing '--boundary--'."""
    delim = b"--" + boundary
    parts, current, inside = [], None, False
    for line in body.split(b"\n"):
        if line.startswith(delim):
            if current is not None:
                parts.append(b"\n".join(current))
            if line[len(delim):len(delim) + 2] == b"--":
                return parts
            current, inside = [], True
        elif inside:
            current.append(line)
    if current is not None:
        parts.append(b"\n".join(current))
    return parts


class Pieces:
    """What the model reads: header values, body texts (plain and HTML) and part types."""

    def __init__(self):
        self.headers = []   # (name, decoded value)
        self.texts = []     # (is_html, utf-8 bytes)
        self.types = []     # content types of non-text parts
        self.parts = 0


def walk(headers, body, pieces, depth):
    pieces.parts += 1
    ctype, params = content_type(headers)
    if ctype.startswith(b"multipart/") and b"boundary" in params and depth < MAX_DEPTH:
        for part in split_multipart(body, params[b"boundary"]):
            if pieces.parts >= MAX_PARTS:
                break
            sub_headers, sub_body = split_head_body(part)
            walk(sub_headers, sub_body, pieces, depth + 1)
        return
    if ctype not in (b"text/plain", b"text/html"):
        pieces.types.append(ctype)
        return
    cte = header(headers, b"content-transfer-encoding").lower()
    if cte == b"base64":
        body = b64decode(body)
    elif cte == b"quoted-printable":
        body = qp_decode(body)
    pieces.texts.append((ctype == b"text/html", to_utf8(body, params.get(b"charset", b""))))


def parse(raw):
    """Raw message bytes to Pieces."""
    headers, body = split_head_body(raw[:MAX_BYTES])
    pieces = Pieces()
    pieces.headers = [(n, decode_words(v)) for n, v in headers]
    walk(headers, body, pieces, 0)
    return pieces
