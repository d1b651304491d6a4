"""Pieces of a message to hashed token features (docs/textclf-features.md, sections 2-4)."""

import xxhash

from . import message

BUCKET_BITS = 20
HASH_SEED = 0
TOKEN_MIN, TOKEN_MAX = 2, 40
MAX_HEADER_NAME, MAX_HOST = 200, 256
HEADER_FIELDS = (b"subject", b"from", b"reply-to", b"to", b"x-mailer", b"user-agent",
                 b"content-type")
ENTITIES = {b"amp": b"&", b"lt": b"<", b"gt": b">", b"quot": b'"', b"apos": b"'",
            b"nbsp": b" "}


def utf8(cp):
    """A code point as UTF-8, or nothing for surrogates, 0 and values past U+10FFFF."""
    if cp <= 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        return b""
    return chr(cp).encode("utf-8")


def lower_ascii(data):
    return bytes(c + 32 if 65 <= c <= 90 else c for c in data)


def skip_block(low, i, tag):
    """After '<script' or '<style' at i: the index past the closing tag's '>', or the end."""
    close = low.find(b"</" + tag, i)
    if close < 0:
        return len(low)
    gt = low.find(b">", close)
    return len(low) if gt < 0 else gt + 1


def entity(data, i):
    """(bytes, length) of the entity at data[i] == '&', or (None, 0) when there is none."""
    semi = data.find(b";", i + 1, i + 12)
    if semi < 0:
        return None, 0
    name = data[i + 1:semi]
    if name[:2] in (b"#x", b"#X") and 1 <= len(name) - 2 <= 6 and all(
            c in b"0123456789abcdefABCDEF" for c in name[2:]):
        return utf8(int(name[2:], 16)), semi - i + 1
    if name[:1] == b"#" and 1 <= len(name) - 1 <= 7 and name[1:].isdigit():
        return utf8(int(name[1:])), semi - i + 1
    if name in ENTITIES:
        return ENTITIES[name], semi - i + 1
    return None, 0


def strip_html(data):
    """Text of an HTML body: no script/style blocks, comments or tags (each leaves a space),
    the usual entities decoded."""
    low = lower_ascii(data)
    out = bytearray()
    i, n = 0, len(data)
    no_gt = False  # no '>' after here: a run of unclosed '<' stays linear, as in the plugin
    while i < n:
        c = data[i]
        if c == 0x3C:  # '<'
            if low.startswith(b"<!--", i):
                end = low.find(b"-->", i + 4)
                i = n if end < 0 else end + 3
                out += b" "
                continue
            tag = next((t for t in (b"script", b"style") if low.startswith(t, i + 1) and
                        (i + 1 + len(t) >= n or not low[i + 1 + len(t):i + 2 + len(t)].isalnum())),
                       None)
            if tag:
                i = skip_block(low, i, tag)
                out += b" "
                continue
            gt = -1 if no_gt else data.find(b">", i + 1)
            no_gt = gt < 0
            if gt >= 0:
                i = gt + 1
                out += b" "
                continue
        elif c == 0x26:  # '&'
            text, length = entity(data, i)
            if text is not None:
                out += text
                i += length
                continue
        out.append(c)
        i += 1
    return bytes(out)


def tokens(data):
    """Maximal runs of ASCII letters and digits and bytes >= 0x80, ASCII lower-cased, of
    2 to 40 bytes."""
    out, start = [], -1
    for i, c in enumerate(data + b" "):
        word = (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c >= 0x80
        if word and start < 0:
            start = i
        elif not word and start >= 0:
            if TOKEN_MIN <= i - start <= TOKEN_MAX:
                out.append(lower_ascii(data[start:i]))
            start = -1
    return out


def url_hosts(data):
    """Hosts of the http(s) URLs in a text, lower-cased."""
    low, hosts, i = lower_ascii(data), [], 0
    while True:
        i = low.find(b"http", i)
        if i < 0:
            return hosts
        j = i + 4
        if low.startswith(b"s", j):
            j += 1
        if low.startswith(b"://", j):
            j += 3
            k = j
            while k < len(low) and (low[k:k + 1].isalnum() or low[k] in b".-"):
                k += 1
            if j < k <= j + MAX_HOST:
                hosts.append(low[j:k])
            i = k
        else:
            i = j


def message_tokens(raw):
    """The set of feature strings of one raw message."""
    pieces = message.parse(raw)
    feats = set()
    for name, value in pieces.headers:
        if len(name) > MAX_HEADER_NAME:
            continue
        feats.add(b"p:" + name)
        if name in HEADER_FIELDS:
            for t in tokens(value):
                feats.add(b"h:" + name + b":" + t)
    total = 0
    for is_html, text in pieces.texts:
        for host in url_hosts(text):
            feats.add(b"u:" + host)
        plain = strip_html(text) if is_html else text
        total += len(plain)
        for t in tokens(plain):
            feats.add(b"b:" + t)
        if is_html:
            feats.add(b"t:html")
    for ctype in pieces.types:
        feats.add(b"t:" + ctype)
    feats.add(b"l:%d" % total.bit_length())
    return feats


def bucket(feature):
    return xxhash.xxh3_64_intdigest(feature, HASH_SEED) & ((1 << BUCKET_BITS) - 1)


def message_buckets(raw):
    """The sorted, distinct hash buckets of one raw message: the model's input."""
    return sorted({bucket(f) for f in message_tokens(raw)})
