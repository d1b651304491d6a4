/* Finding msgpack frame boundaries in a byte stream, without allocating and without libuv.
 * The scanner walks the encoding only far enough to know where a message ends, so that a
 * connection can reject an oversize or malformed frame before anything is decoded. */
#ifndef VD_FRAME_H
#define VD_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Scans one msgpack value at the start of buf[0..len).
 * Returns 0 and sets *frame_len when a whole value is present; VD_EAGAIN when more bytes are
 * needed; VD_ETOOLARGE when the value is, or declares itself, longer than limit bytes (also when
 * a container declares more elements than limit, since every element takes a byte); VD_EPROTO
 * on a byte that msgpack never uses (0xc1). */
int vd_frame_scan(const uint8_t *buf, size_t len, size_t limit, size_t *frame_len);

/* How far the scan of a frame got before its bytes ran out. Zeroed, it starts a new frame;
 * vd_frame_scan_more zeroes it again once the frame is whole. */
typedef struct vd_frame_scan {
    size_t pos;       /* bytes of the frame read: every value before pos is whole */
    uint64_t pending; /* values still to read from pos */
} vd_frame_scan_t;

/* vd_frame_scan that goes on where the last call on s stopped for want of bytes, so that a
 * frame arriving in many pieces is walked once, not once per piece. buf holds the frame from
 * its first byte on every call (it may have moved), len bytes of it. Same returns. */
int vd_frame_scan_more(vd_frame_scan_t *s, const uint8_t *buf, size_t len, size_t limit,
                       size_t *frame_len);

/* Reads the msgid of a msgpack-RPC request ([0, msgid, ...]) from the first bytes of a frame,
 * even when the frame is incomplete or its tail is invalid. Returns 0 and sets *msgid, or
 * VD_ENOTFOUND when the prefix is not a request header. */
int vd_frame_peek_msgid(const uint8_t *buf, size_t len, uint32_t *msgid);

#endif
