#include "base/error.h"
#include "proto/rpc.h"
#include "vd_test.h"

#include <string.h>

typedef struct {
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
    CU_ASSERT(vd_rpc_method_is(&m, "decide"));
    CU_ASSERT(!vd_rpc_method_is(&m, "decid"));
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
    CU_ASSERT_STRING_EQUAL(vd_rpc_err_name((vd_rpc_err_t)99), "internal");
}

void vd_suite_rpc(void) {
    static const vd_test_t tests[] = {{"decode a request", test_decode_request},
                                      {"decode a notification", test_decode_notification},
                                      {"malformed envelopes", test_decode_errors},
                                      {"pack an error reply", test_pack_error},
                                      {"error code names", test_error_names},
                                      {NULL, NULL}};
    vd_add_suite("rpc", tests);
}
