/* Where one worker's rules and plugins keep state: the embedded store every worker shares,
 * and this worker's Redis connection when state lives in Redis. */
#ifndef VD_STATE_ENV_H
#define VD_STATE_ENV_H

struct vd_store;
struct vd_redis;
struct vd_campaigns;

typedef struct vd_state_env {
    struct vd_store *store; /* the embedded store, or Redis's fallback; NULL: no state here */
    struct vd_redis *redis; /* NULL: state is embedded */
    int fail_open;          /* when Redis does not answer: no state instead of local state */
    struct vd_campaigns *campaigns; /* the campaign index every worker shares, or NULL */
} vd_state_env_t;

#endif
