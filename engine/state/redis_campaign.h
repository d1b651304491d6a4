/* Campaign operations (campaign_op.h) in Redis: one piece of Lua (redis_campaign.lua) runs
 * the embedded index's rules on the server, so that every daemon sharing it shares one index.
 * The connection (redis.h) loads it once per connection, as a Redis function (Redis 7) and as
 * a script, and sends each operation as FCALL, else EVALSHA (EVAL until a load is answered). */
#ifndef VD_REDIS_CAMPAIGN_H
#define VD_REDIS_CAMPAIGN_H

#include "campaign_op.h"
#include "state_op.h"

#include <hiredis/hiredis.h>
#include <stddef.h>

extern const char vd_redis_campaign_script[]; /* the file, as it is */
extern const size_t vd_redis_campaign_script_len;

/* The code as a script (EVAL, SCRIPT LOAD), and as a function library (FUNCTION LOAD) whose
 * name carries a hash of the code, so that daemons of different builds never replace each
 * other's. Made once, for the process. */
const char *vd_redis_campaign_eval(size_t *len);
const char *vd_redis_campaign_library(size_t *len);

typedef enum {
    VD_REDIS_CAMPAIGN_FCALL,
    VD_REDIS_CAMPAIGN_EVALSHA,
    VD_REDIS_CAMPAIGN_EVAL
} vd_redis_campaign_call_t;

#define VD_REDIS_CAMPAIGN_ARGS 22

/* The command of one operation, its strings held here. */
typedef struct vd_redis_campaign_cmd {
    const char *argv[VD_REDIS_CAMPAIGN_ARGS];
    size_t lens[VD_REDIS_CAMPAIGN_ARGS];
    int argc;
    char key[1200], id[17], kind[2], what[2], now[24], window[24], ttl[24], source[24], num[2][32],
        bands[8][17];
} vd_redis_campaign_cmd_t;

/* The Redis key of the campaigns a decision joined: 0 when it does not fit cap. */
size_t vd_redis_refs_key(const char *prefix, const char *id, size_t len, char *out, size_t cap);

#define VD_REDIS_REFS_BYTES (8 + 9 * VD_CAMPAIGN_REFS)

/* The refs as the bytes kept in Redis (little-endian: the pipeline's hash, then a kind byte
 * and an id per campaign); returns their length. */
size_t vd_redis_refs_encode(const struct vd_campaign_refs *refs, unsigned char *out);

/* Builds the command for op (VD_OP_CAMPAIGN) called as how (sha: the script's, for EVALSHA);
 * prefix is put before every key. Returns 0, or -1 with why set (a prefix too long). */
int vd_redis_campaign_cmd(vd_redis_campaign_cmd_t *cmd, vd_state_op_t *op, const char *prefix,
                          vd_redis_campaign_call_t how, const char *sha);

/* Fills op's ask from the script's reply: 0, or -1 when the reply is not what it returns. */
int vd_redis_campaign_read(vd_state_op_t *op, const redisReply *rep);

#endif
