#include "base/error.h"
#include "proto/frame.h"
#include "vd_test.h"

#include <string.h>

static void test_complete_and_partial(void) {
    /* [0, 7, "ping", []] */
    const uint8_t f[] = {0x94, 0x00, 0x07, 0xa4, 'p', 'i', 'n', 'g', 0x90};
    size_t len = 0;
    CU_ASSERT_EQUAL(vd_frame_scan(f, sizeof f, 1024, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof f);
    for (size_t cut = 0; cut < sizeof f; cut++)
        CU_ASSERT_EQUAL(vd_frame_scan(f, cut, 1024, &len), VD_EAGAIN);
    /* A frame whose last value is a long string: every cut inside it must wait for more. */
    uint8_t s[5 + 300] = {0xdb, 0x00, 0x00, 0x01, 0x2c};
    memset(s + 5, 'x', 300);
    CU_ASSERT_EQUAL(vd_frame_scan(s, sizeof s, 1024, &len), 0);
    for (size_t cut = 0; cut < sizeof s; cut += 7)
        CU_ASSERT_EQUAL(vd_frame_scan(s, cut, 1024, &len), VD_EAGAIN);
}

/* Fed a byte more at a time, a resumed scan waits, then finds the frame a whole scan finds;
 * a long string is not walked again, and the state is ready for the next frame. */
static void test_resumed_scan(void) {
    uint8_t f[3 + 3 + 300 + 1] = {0x94, 0x01, 0xc0, 0xda, 0x01, 0x2c}; /* [1, nil, str, true] */
    memset(f + 6, 'x', 300);
    f[sizeof f - 1] = 0xc3;
    vd_frame_scan_t s = {0, 0};
    size_t len = 0;
    for (size_t n = 0; n < sizeof f; n++) {
        CU_ASSERT_EQUAL(vd_frame_scan_more(&s, f, n, 1024, &len), VD_EAGAIN);
        CU_ASSERT(s.pos <= n);
    }
    CU_ASSERT_EQUAL(s.pos, sizeof f - 1); /* waiting at the last value, the string behind */
    CU_ASSERT_EQUAL(vd_frame_scan_more(&s, f, sizeof f, 1024, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof f);
    CU_ASSERT(s.pos == 0 && s.pending == 0);
    /* The limit counts from the frame's first byte, however many calls it took. */
    CU_ASSERT_EQUAL(vd_frame_scan_more(&s, f, 100, 1024, &len), VD_EAGAIN);
    CU_ASSERT_EQUAL(vd_frame_scan_more(&s, f, 200, 200, &len), VD_ETOOLARGE);
}

static void test_two_frames_back_to_back(void) {
    const uint8_t f[] = {0x92, 0x01, 0x02, 0x81, 0xa1, 'k', 0xc3};
    size_t len = 0;
    CU_ASSERT_EQUAL(vd_frame_scan(f, sizeof f, 1024, &len), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(vd_frame_scan(f + 3, sizeof f - 3, 1024, &len), 0);
    CU_ASSERT_EQUAL(len, 4);
}

static void test_too_large(void) {
    /* str32 declaring 2 MiB: rejected from its header alone */
    const uint8_t big[] = {0xdb, 0x00, 0x20, 0x00, 0x00, 'a'};
    size_t len;
    CU_ASSERT_EQUAL(vd_frame_scan(big, sizeof big, 1 << 20, &len), VD_ETOOLARGE);
    /* array32 declaring four billion elements */
    const uint8_t arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    CU_ASSERT_EQUAL(vd_frame_scan(arr, sizeof arr, 1 << 20, &len), VD_ETOOLARGE);
    /* map16 of 600 pairs with a limit of 1000 bytes */
    const uint8_t map[] = {0xde, 0x02, 0x58};
    CU_ASSERT_EQUAL(vd_frame_scan(map, sizeof map, 1000, &len), VD_ETOOLARGE);
}

static void test_invalid_byte(void) {
    const uint8_t f[] = {0x92, 0xc1, 0x01};
    size_t len;
    CU_ASSERT_EQUAL(vd_frame_scan(f, sizeof f, 1024, &len), VD_EPROTO);
}

static void test_every_type(void) {
    const uint8_t f[] = {0xdc, 0x00, 0x11, 0xc0, 0xc2, 0xc3, 0xcc, 1,    0xcd, 0, 1,   0xce,
                         0,    0,    0,    1,    0xcf, 0,    0,    0,    0,    0, 0,   0,
                         1,    0xd0, 0xff, 0xca, 0,    0,    0,    0,    0xcb, 0, 0,   0,
                         0,    0,    0,    0,    0,    0xc4, 1,    'x',  0xd9, 1, 'y', 0xd4,
                         1,    2,    0xc7, 1,    5,    'z',  0xe0, 0x7f, 0xdc, 0, 1,   0x01};
    size_t len = 0;
    CU_ASSERT_EQUAL(vd_frame_scan(f, sizeof f, 1024, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof f);
}

static void test_peek_msgid(void) {
    uint32_t id = 0;
    const uint8_t small[] = {0x94, 0x00, 0x2a};
    CU_ASSERT_EQUAL(vd_frame_peek_msgid(small, sizeof small, &id), 0);
    CU_ASSERT_EQUAL(id, 42);
    const uint8_t u32[] = {0x94, 0x00, 0xce, 0x01, 0x02, 0x03, 0x04};
    CU_ASSERT_EQUAL(vd_frame_peek_msgid(u32, sizeof u32, &id), 0);
    CU_ASSERT_EQUAL(id, 0x01020304u);
    const uint8_t notify[] = {0x93, 0x02, 0xa1, 'x'};
    CU_ASSERT_EQUAL(vd_frame_peek_msgid(notify, sizeof notify, &id), VD_ENOTFOUND);
    const uint8_t neg[] = {0x94, 0x00, 0xd0, 0xff};
    CU_ASSERT_EQUAL(vd_frame_peek_msgid(neg, sizeof neg, &id), VD_ENOTFOUND);
    const uint8_t garbage[] = {0xc1, 0xc1};
    CU_ASSERT_EQUAL(vd_frame_peek_msgid(garbage, sizeof garbage, &id), VD_ENOTFOUND);
}

void vd_suite_frame(void) {
    static const vd_test_t tests[] = {{"complete and partial frames", test_complete_and_partial},
                                      {"frames back to back", test_two_frames_back_to_back},
                                      {"a scan resumed piece by piece", test_resumed_scan},
                                      {"oversize declarations", test_too_large},
                                      {"invalid byte 0xc1", test_invalid_byte},
                                      {"every msgpack type", test_every_type},
                                      {"msgid peeking", test_peek_msgid},
                                      {NULL, NULL}};
    vd_add_suite("frame", tests);
}
