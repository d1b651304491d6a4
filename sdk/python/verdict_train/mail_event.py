"""A raw message as the shipped mail pipeline's event: the raw bytes for the models, and the
fields the Lua rules read (from, to, subject, headers, body), from the same parser."""

from . import message


def event(raw):
    pieces = message.parse(raw)
    headers = {}
    for name, value in pieces.headers:
        text = value.decode("utf-8", "replace")
        headers.setdefault(name.decode("latin-1"), text)
    body = b"\n".join(text for _, text in pieces.texts).decode("utf-8", "replace")
    return {"raw": raw, "from": headers.get("from", ""), "to": headers.get("to", ""),
            "subject": headers.get("subject", ""), "headers": headers, "body": body}
