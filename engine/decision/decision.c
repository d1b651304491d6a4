#include "decision.h"

#include "base/error.h"

#include <string.h>

void vd_decision_init(vd_decision_t *d, vd_arena_t *arena, int explain) {
    memset(d, 0, sizeof *d);
    d->arena = arena;
    d->explain = explain;
}

void vd_decision_note_campaign(vd_decision_t *d, int kind, uint64_t id) {
    for (int i = 0; i < d->ncampaigns; i++)
        if (d->campaigns[i].id == id && d->campaigns[i].kind == kind) return;
    if (d->ncampaigns < VD_DECISION_CAMPAIGNS)
        d->campaigns[d->ncampaigns++] = (vd_campaign_ref_t){id, kind};
}

static vd_outcome_t *side(vd_decision_t *d, int shadow) {
    if (shadow) d->has_shadow = 1;
    return shadow ? &d->shadow : &d->main;
}

int vd_decision_add_reason(vd_decision_t *d, int shadow, const char *rule, const char *stage,
                           double score, const char *detail, size_t detail_len) {
    vd_outcome_t *o = side(d, shadow);
    vd_reason_t *r = vd_vec_push(&o->reasons, d->arena, sizeof *r);
    if (!r) return VD_ENOMEM;
    r->rule = rule;
    r->stage = stage;
    r->score = score;
    if (detail && !(r->detail = vd_arena_strndup(d->arena, detail, detail_len))) return VD_ENOMEM;
    o->score += score;
    return 0;
}

static int has_tag(const vd_outcome_t *o, const char *tag, size_t len) {
    for (uint32_t i = 0; i < o->tags.len; i++) {
        const char *t = VD_VEC_AT(o->tags, const char *, i);
        if (t == tag || (strncmp(t, tag, len) == 0 && t[len] == '\0')) return 1;
    }
    return 0;
}

int vd_decision_add_tag(vd_decision_t *d, int shadow, const char *tag, size_t len) {
    vd_outcome_t *o = side(d, shadow);
    if (has_tag(o, tag, len)) return 0;
    const char **slot = vd_vec_push(&o->tags, d->arena, sizeof *slot);
    if (!slot || !(*slot = vd_arena_strndup(d->arena, tag, len))) return VD_ENOMEM;
    return 0;
}

int vd_decision_add_lasting_tag(vd_decision_t *d, int shadow, const char *tag) {
    vd_outcome_t *o = side(d, shadow);
    if (has_tag(o, tag, strlen(tag))) return 0;
    const char **slot = vd_vec_push(&o->tags, d->arena, sizeof *slot);
    if (!slot) return VD_ENOMEM;
    *slot = tag;
    return 0;
}

static vd_feature_t *find_feature(const vd_decision_t *d, const char *name, size_t len,
                                  int see_shadow) {
    for (uint32_t i = d->features.len; i-- > 0;) {
        vd_feature_t *f = &VD_VEC_AT(d->features, vd_feature_t, i);
        if ((see_shadow || !f->shadow) && strncmp(f->name, name, len) == 0 && f->name[len] == 0)
            return f;
    }
    return NULL;
}

int vd_decision_set_feature(vd_decision_t *d, int shadow, const char *name, size_t len,
                            const vd_value_t *value) {
    vd_feature_t *f = find_feature(d, name, len, 1);
    if (!f || f->shadow != shadow) {
        f = vd_vec_push(&d->features, d->arena, sizeof *f);
        if (!f || !(f->name = vd_arena_strndup(d->arena, name, len))) return VD_ENOMEM;
        f->shadow = shadow;
    }
    f->value = *value;
    if (value->type == VD_VAL_STR) {
        f->value.u.s.ptr = vd_arena_strndup(d->arena, value->u.s.ptr, value->u.s.len);
        if (!f->value.u.s.ptr) return VD_ENOMEM;
    }
    return 0;
}

const vd_feature_t *vd_decision_feature(const vd_decision_t *d, const char *name, size_t len,
                                        int see_shadow) {
    return find_feature(d, name, len, see_shadow);
}

int vd_decision_add_fault(vd_decision_t *d, const char *stage, const char *rule,
                          const char *message) {
    vd_fault_t *f = vd_vec_push(&d->faults, d->arena, sizeof *f);
    if (!f || !(f->message = vd_arena_strndup(d->arena, message, strlen(message))))
        return VD_ENOMEM;
    f->stage = stage;
    f->rule = rule;
    return 0;
}

#define OBS_KINDS(X)                                                                               \
    X(VD_OBS_COUNTER, "counter")                                                                   \
    X(VD_OBS_DISTINCT, "distinct")                                                                 \
    X(VD_OBS_LABELED, "labeled")                                                                   \
    X(VD_OBS_PLUGIN, "plugin")                                                                     \
    X(VD_OBS_PROFILE, "profile")                                                                   \
    X(VD_OBS_ANOMALY, "anomaly")                                                                   \
    X(VD_OBS_CAMPAIGN, "campaign")

const char *vd_obs_name(vd_obs_kind_t kind) {
#define NAME(k, name) [k] = name,
    static const char *const names[] = {OBS_KINDS(NAME)};
#undef NAME
    return (unsigned)kind < sizeof names / sizeof *names && names[kind] ? names[kind] : "?";
}

const char *vd_obs_json_head(vd_obs_kind_t kind, size_t *len) {
#define HEAD(k, name) [k] = "{\"op\":\"" name "\",\"key\":",
    static const char *const heads[] = {OBS_KINDS(HEAD)};
#undef HEAD
#define HEAD_LEN(k, name) [k] = sizeof("{\"op\":\"" name "\",\"key\":") - 1,
    static const size_t lens[] = {OBS_KINDS(HEAD_LEN)};
#undef HEAD_LEN
    int known = (unsigned)kind < sizeof heads / sizeof *heads && heads[kind];
    *len = known ? lens[kind] : sizeof "{\"op\":\"?\",\"key\":" - 1;
    return known ? heads[kind] : "{\"op\":\"?\",\"key\":";
}

/* s[0..n) and a NUL at p: returns what follows. */
static char *copy_ended(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

int vd_decision_observe(vd_decision_t *d, const vd_observed_t *o) {
    if (!d->observe) return 0;
    vd_observed_t *slot = vd_vec_push(&d->observed, d->arena, sizeof *slot);
    if (!slot) return VD_ENOMEM;
    *slot = *o;
    /* the name, value and packed bytes, each NUL-ended, in one piece of the arena */
    size_t size =
        (o->name ? o->len + 1 : 0) + (o->value ? o->vlen + 1 : 0) + (o->packed ? o->plen + 1 : 0);
    char *p = size ? vd_arena_alloc(d->arena, size) : NULL;
    if (size && !p) return VD_ENOMEM;
    if (o->name) slot->name = p, p = copy_ended(p, o->name, o->len);
    if (o->value) slot->value = p, p = copy_ended(p, o->value, o->vlen);
    if (o->packed) slot->packed = p, copy_ended(p, o->packed, o->plen);
    return 0;
}
