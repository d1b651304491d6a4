#include "base/error.h"
#include "base/utf8.h"
#include "proto/admin_params.h"
#include "proto/inbound.h"
#include "proto/mpbuf.h"
#include "proto/rpc.h"
#include "vd_test.h"

#include <string.h>

typedef struct buf {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
} buf_t;

static void buf_init(buf_t *b) {
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
    msgpack_unpacked_init(&b->up);
}

static const msgpack_object *buf_obj(buf_t *b) {
    msgpack_unpack_next(&b->up, b->sb.data, b->sb.size, NULL);
    return &b->up.data;
}

static void buf_free(buf_t *b) {
    msgpack_unpacked_destroy(&b->up);
    msgpack_sbuffer_destroy(&b->sb);
}

static void test_decode_request(void) {
    buf_t b;
    buf_init(&b);
    msgpack_pack_array(&b.pk, 4);
    msgpack_pack_uint8(&b.pk, 0);
    msgpack_pack_uint32(&b.pk, 4000000000u);
    vd_pack_cstr(&b.pk, "decide");
    msgpack_pack_array(&b.pk, 0);
    vd_rpc_msg_t m;
    const char *why = NULL;
    CU_ASSERT_EQUAL(vd_rpc_decode(buf_obj(&b), &m, &why), 0);
    CU_ASSERT_EQUAL(m.kind, VD_RPC_REQUEST);
    CU_ASSERT_EQUAL(m.msgid, 4000000000u);
    CU_ASSERT(m.method_len == 6 && memcmp(m.method, "decide", 6) == 0);
    buf_free(&b);
}

static void test_decode_notification(void) {
    buf_t b;
    buf_init(&b);
    msgpack_pack_array(&b.pk, 3);
    msgpack_pack_uint8(&b.pk, 2);
    vd_pack_cstr(&b.pk, "log");
    msgpack_pack_array(&b.pk, 0);
    vd_rpc_msg_t m;
    const char *why;
    CU_ASSERT_EQUAL(vd_rpc_decode(buf_obj(&b), &m, &why), 0);
    CU_ASSERT_EQUAL(m.kind, VD_RPC_NOTIFY);
    buf_free(&b);
}

static void expect_bad(void (*build)(msgpack_packer *), int has_msgid) {
    buf_t b;
    buf_init(&b);
    build(&b.pk);
    vd_rpc_msg_t m;
    const char *why = NULL;
    CU_ASSERT_EQUAL(vd_rpc_decode(buf_obj(&b), &m, &why), VD_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_EQUAL(m.has_msgid, has_msgid);
    buf_free(&b);
}

static void not_array(msgpack_packer *pk) {
    msgpack_pack_map(pk, 0);
}
static void params_not_array(msgpack_packer *pk) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_uint8(pk, 9);
    vd_pack_cstr(pk, "ping");
    msgpack_pack_nil(pk);
}
static void negative_msgid(msgpack_packer *pk) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_int8(pk, -1);
    vd_pack_cstr(pk, "ping");
    msgpack_pack_array(pk, 0);
}
static void method_not_string(msgpack_packer *pk) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_uint8(pk, 3);
    msgpack_pack_uint8(pk, 3);
    msgpack_pack_array(pk, 0);
}
static void response_from_client(msgpack_packer *pk) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_uint8(pk, 3);
    msgpack_pack_nil(pk);
    msgpack_pack_nil(pk);
}

static void test_decode_errors(void) {
    expect_bad(not_array, 0);
    expect_bad(params_not_array, 1);
    expect_bad(negative_msgid, 0);
    expect_bad(method_not_string, 1);
    expect_bad(response_from_client, 0);
}

static void test_pack_error(void) {
    buf_t b;
    buf_init(&b);
    vd_rpc_pack_error(&b.pk, 77, VD_RPC_UNKNOWN_PIPELINE, "no pipeline 'x'");
    const msgpack_object *o = buf_obj(&b);
    CU_ASSERT_EQUAL(o->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL(o->via.array.size, 4);
    CU_ASSERT_EQUAL(o->via.array.ptr[0].via.u64, 1);
    CU_ASSERT_EQUAL(o->via.array.ptr[1].via.u64, 77);
    const msgpack_object *err = &o->via.array.ptr[2];
    CU_ASSERT_EQUAL(err->type, MSGPACK_OBJECT_MAP);
    char code[32];
    CU_ASSERT_EQUAL(vd_rpc_copy_str(&err->via.map.ptr[0].val, code, sizeof code), 0);
    CU_ASSERT_STRING_EQUAL(code, "unknown_pipeline");
    CU_ASSERT_EQUAL(o->via.array.ptr[3].type, MSGPACK_OBJECT_NIL);
    buf_free(&b);
}

static void test_error_names(void) {
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name(VD_RPC_BAD_REQUEST), "bad_request");
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name(VD_RPC_SHUTTING_DOWN), "shutting_down");
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name(VD_RPC_POLICY_ERROR), "policy_error");
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name(VD_RPC_FORBIDDEN), "forbidden");
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name((vd_rpc_err_t)99), "internal");
}

/* The params of state_get/set/reset and list_check: shapes accepted and refused. */
static void test_admin_params(void) {
    buf_t b;
    buf_init(&b);
    msgpack_pack_array(&b.pk, 4);
    vd_pack_cstr(&b.pk, "distinct");
    vd_pack_cstr(&b.pk, "login:accounts:203.0.113.7");
    msgpack_pack_uint32(&b.pk, 12);
    msgpack_pack_map(&b.pk, 1);
    vd_pack_u64(&b.pk, "ttl", 3600);
    const msgpack_object *params = buf_obj(&b);
    vd_state_params_t p;
    CU_ASSERT_PTR_NULL(vd_state_params_read(params, VD_STATE_SET, &p));
    CU_ASSERT(p.kind == VD_KEY_DISTINCT && p.value == 12 && p.ttl == 3600 && p.key_len == 26);
    CU_ASSERT_STRING_EQUAL(vd_state_params_read(params, VD_STATE_GET, &p),
                           "state_get takes [kind, key]");
    vd_list_check_params_t lp;
    CU_ASSERT_PTR_NOT_NULL(vd_list_check_params_read(params, &lp)); /* four elements */
    buf_free(&b);
    buf_init(&b);
    msgpack_pack_array(&b.pk, 3);
    vd_pack_cstr(&b.pk, "counter");
    vd_pack_cstr(&b.pk, "k");
    msgpack_pack_int(&b.pk, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(vd_state_params_read(buf_obj(&b), VD_STATE_SET, &p),
                                  "value must be an integer from 0"));
    buf_free(&b);
    buf_init(&b);
    msgpack_pack_array(&b.pk, 3);
    vd_pack_cstr(&b.pk, "lists/a.txt");
    vd_pack_cstr(&b.pk, "192.0.2.1");
    msgpack_pack_map(&b.pk, 1);
    vd_pack_cstr(&b.pk, "kind");
    vd_pack_cstr(&b.pk, "domain");
    CU_ASSERT_PTR_NULL(vd_list_check_params_read(buf_obj(&b), &lp));
    CU_ASSERT(lp.kind == 1 && lp.path_len == 11 && lp.value_len == 9);
    buf_free(&b);
}

/* The inline writers produce what msgpack-c's packer produces, at every size boundary. */
static void test_inline_writers_match_msgpack(void) {
    msgpack_sbuffer a, b;
    msgpack_packer pk;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    static const int64_t ints[] = {
        0,        1,   127, 128,  255,  256,    65535,  65536,         4294967295LL,  4294967296LL,
        -1,       -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN,
        INT64_MAX};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        vd_mp_int(&a, ints[i]);
        msgpack_pack_int64(&pk, ints[i]);
    }
    static char text[70000];
    memset(text, 'x', sizeof text);
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        vd_mp_str(&a, text, lens[i]);
        msgpack_pack_str_with_body(&pk, text, lens[i]);
    }
    static const uint32_t sizes[] = {0, 15, 16, 65535, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        vd_mp_map(&a, sizes[i]);
        msgpack_pack_map(&pk, sizes[i]);
        vd_mp_array(&a, sizes[i]);
        msgpack_pack_array(&pk, sizes[i]);
    }
    vd_mp_double(&a, -2.5);
    msgpack_pack_double(&pk, -2.5);
    vd_mp_bool(&a, 1);
    msgpack_pack_true(&pk);
    vd_mp_bool(&a, 0);
    msgpack_pack_false(&pk);
    vd_mp_nil(&a);
    msgpack_pack_nil(&pk);
    VD_MP_LIT(&a, "action");
    msgpack_pack_str_with_body(&pk, "action", 6);
    CU_ASSERT_EQUAL_FATAL(a.size, b.size);
    CU_ASSERT_EQUAL(memcmp(a.data, b.data, a.size), 0);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

static void test_utf8(void) {
    /* Valid: ASCII, 2-, 3- and 4-byte characters. Invalid: a lone continuation byte, an
     * overlong '/', a surrogate, past U+10FFFF, a cut character, 0xff. */
    const char *valid[] = {"plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", NULL};
    for (int i = 0; valid[i]; i++)
        CU_ASSERT_EQUAL(vd_utf8_valid_len(valid[i], strlen(valid[i])), strlen(valid[i]));
    const char *invalid[] = {
        "a\x80", "a\xc0\xaf", "a\xed\xa0\x80", "a\xf4\x90\x80\x80", "a\xe2\x82", "a\xff", NULL};
    for (int i = 0; invalid[i]; i++)
        CU_ASSERT_EQUAL(vd_utf8_valid_len(invalid[i], strlen(invalid[i])), 1);
#define R "\xef\xbf\xbd"
    /* One U+FFFD per maximal subpart, as Python's "replace" and Ruby's scrub do: a character
     * cut short is one, a byte that cannot start or continue one is one each. The first case
     * is the Unicode Standard's own example (section 3.9). */
    const char *repairs[][2] = {
        {"a\xf1\x80\x80\xe1\x80\xc2"
         "b\x80"
         "c\x80\xbf"
         "d",
         "a" R R R "b" R "c" R R "d"},
        {"a\xff"
         "b\xe2\x82",
         "a" R "b" R},
        {"\xe2\x82x\xf0\x9f\x98", R "x" R},
        {"\xc0\xaf\xe0\x80\xaf", R R R R R},
        {"\xed\xa0\x80\xf4\x90\x80\x80", R R R R R R R},
        {"\xf0\x9f\x98\x80\xe2\x82\xac", "\xf0\x9f\x98\x80\xe2\x82\xac"},
    };
#undef R
    for (size_t i = 0; i < sizeof repairs / sizeof repairs[0]; i++) {
        char out[64];
        size_t n = vd_utf8_repair(repairs[i][0], strlen(repairs[i][0]), out);
        CU_ASSERT_EQUAL(n, strlen(repairs[i][1]));
        CU_ASSERT_EQUAL(vd_utf8_repair(repairs[i][0], strlen(repairs[i][0]), NULL), n);
        CU_ASSERT(n == strlen(repairs[i][1]) && memcmp(out, repairs[i][1], n) == 0);
    }
    CU_ASSERT_EQUAL(vd_utf8_repair("ok", 2, NULL), 2);
    /* A cut never splits a character. */
    CU_ASSERT_EQUAL(vd_utf8_cut("ab\xe2\x82\xac", 5, 3), 2);
    CU_ASSERT_EQUAL(vd_utf8_cut("ab\xe2\x82\xac", 5, 5), 5);
    CU_ASSERT_EQUAL(vd_utf8_cut("abcd", 4, 2), 2);
    /* The reply writer repairs what it is given. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vd_mp_str(&sb, "x\xff", 2);
    CU_ASSERT_EQUAL(sb.size, 1 + 4);
    CU_ASSERT_EQUAL(memcmp(sb.data, "\xa4x\xef\xbf\xbd", 5), 0);
    msgpack_sbuffer_destroy(&sb);
}

/* A decoded frame: bin is read as str, and its footprint counts the copy and the decoded
 * containers, which is what a waiting decision holds (--max-waiting-mb). */
static void test_inbound(void) {
    buf_t b;
    buf_init(&b);
    msgpack_pack_array(&b.pk, 4);
    msgpack_pack_uint8(&b.pk, 0);
    msgpack_pack_uint8(&b.pk, 7);
    msgpack_pack_bin(&b.pk, 6);
    msgpack_pack_bin_body(&b.pk, "decide", 6);
    msgpack_pack_array(&b.pk, 1000);
    for (int i = 0; i < 1000; i++)
        msgpack_pack_uint8(&b.pk, 1);
    vd_inbound_t *in = vd_inbound_new();
    const char *why = NULL;
    CU_ASSERT_EQUAL_FATAL(vd_inbound_read(in, b.sb.data, b.sb.size, &why), 0);
    CU_ASSERT_EQUAL(in->msg.method_len, 6);
    CU_ASSERT_EQUAL(memcmp(in->msg.method, "decide", 6), 0);
    CU_ASSERT(in->footprint >= b.sb.size + 1000 * sizeof(msgpack_object));
    CU_ASSERT(in->footprint < 2 * b.sb.size + 1004 * sizeof(msgpack_object) + 4096);
    vd_inbound_clear(in);
    CU_ASSERT_EQUAL(in->footprint, 0);
    vd_inbound_free(in);
    buf_free(&b);
}

void vd_suite_rpc(void) {
    static const vd_test_t tests[] = {{"decode a request", test_decode_request},
                                      {"decode a notification", test_decode_notification},
                                      {"malformed envelopes", test_decode_errors},
                                      {"pack an error reply", test_pack_error},
                                      {"error code names", test_error_names},
                                      {"state and list params", test_admin_params},
                                      {"inline writers", test_inline_writers_match_msgpack},
                                      {"replies carry valid UTF-8", test_utf8},
                                      {"a decoded frame and its footprint", test_inbound},
                                      {NULL, NULL}};
    vd_add_suite("rpc", tests);
}
