"""Message statistics: numeric features of a message's structure and style, for the gbdt stage
of the mail pipeline (spec: docs/textclf-features.md, section 5). Mirrored by
plugins/textclf/stats.c; the parity test compares the two."""

from . import features, message

NAMES = ("text_bytes", "html_fraction", "texts", "other_parts", "urls", "hosts", "caps_ratio",
         "digit_ratio", "exclaim_ratio", "dollar_ratio", "caps_run_longest", "caps_run_mean",
         "caps_run_total", "subject_len", "subject_caps_ratio", "subject_exclaim", "headers",
         "received", "has_message_id", "has_date", "has_x_mailer", "nonascii_ratio")
PREFIX = "msg_"


def _upper(c):
    return 65 <= c <= 90


def _letter(c):
    return 65 <= c <= 90 or 97 <= c <= 122


def message_stats(raw):
    """The statistics of one raw message, in NAMES order, as floats."""
    pc = message.parse(raw)
    plain, html_bytes, raw_bytes, hosts = bytearray(), 0, 0, []
    for is_html, text in pc.texts:
        raw_bytes += len(text)
        hosts += features.url_hosts(text)
        if is_html:
            html_bytes += len(text)
        plain += (features.strip_html(text) if is_html else text) + b"\n"
    letters = upper = digits = exclaim = dollar = nonascii = 0
    runs, run = [], 0
    for c in plain:
        letters += _letter(c)
        upper += _upper(c)
        digits += 48 <= c <= 57
        exclaim += c == 0x21
        dollar += c == 0x24
        nonascii += c >= 0x80
        if _upper(c):
            run += 1
        elif run:
            runs.append(run)
            run = 0
    if run:
        runs.append(run)
    subject = message.header(pc.headers, b"subject")
    s_letters = sum(1 for c in subject if _letter(c))
    s_upper = sum(1 for c in subject if _upper(c))
    names = [n for n, _ in pc.headers]
    n = max(len(plain), 1)
    return [float(len(plain)), html_bytes / max(raw_bytes, 1), float(len(pc.texts)),
            float(len(pc.types)), float(len(hosts)), float(len(set(hosts))),
            upper / max(letters, 1), digits / n, exclaim / n, dollar / n,
            float(max(runs) if runs else 0), (sum(runs) / len(runs)) if runs else 0.0,
            float(sum(runs)), float(len(subject)), s_upper / max(s_letters, 1),
            float(subject.count(b"!")), float(len(pc.headers)), float(names.count(b"received")),
            float(b"message-id" in names), float(b"date" in names), float(b"x-mailer" in names),
            nonascii / n]
