/* Writing text that came from data (ids, names, reasons) into each output safely: JSON
 * strings, HTML (also inline SVG and well-formed XML), and a terminal, where control bytes
 * could move the cursor or retitle the window. Bytes that are not valid UTF-8 become U+FFFD
 * (or \xNN in a terminal). */
#ifndef VD_REPLAY_ESCAPE_H
#define VD_REPLAY_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* s[0..n) as a quoted JSON string: '"', '\\', controls and DEL escaped, also U+2028 and
 * U+2029 (line ends to JavaScript). */
void vd_esc_json(FILE *out, const char *s, size_t n);

/* s[0..n) as HTML text or an attribute value: & < > " ' as references; controls other than
 * tab and newline, and the noncharacters U+FFFE and U+FFFF, which XML forbids, as U+FFFD. */
void vd_esc_html(FILE *out, const char *s, size_t n);

/* A terminal-safe copy of s[0..n) (malloc'd; NULL when out of memory): C0 and C1 controls
 * and DEL as \xNN or \u00NN, bytes that are not UTF-8 as \xNN, a backslash as \\. When max
 * is not 0 the copy is cut to at most max characters, the last of them "~". */
char *vd_esc_text(const char *s, size_t n, size_t max);

/* Characters (code points) in the valid UTF-8 text s: its width in a terminal, near enough. */
size_t vd_text_width(const char *s);

#endif
