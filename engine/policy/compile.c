#include "compile.h"

#include "base/error.h"
#include "base/suggest.h"
#include "dsl.h"
#include "key_line.h"
#include "lua/lua_when.h"
#include "plugin/stage.h"
#include "plugin_config.h"

#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cc {
    lua_State *L;
    vd_policy_t *p;
    char *err;
    size_t errlen;
} cc_t;

/* Where a declaration was made, read from its record; within names the key of the
 * declaration's table whose own table is being read (log), or is NULL. */
typedef struct where {
    const char *name, *file;
    int line;
    const char *kind; /* "rule", "stage", "plugin" or "pipeline" */
    const char *within;
} where_t;

static int vfail(cc_t *c, const where_t *w, int line, const char *fmt, va_list ap) {
    int n = snprintf(c->err, c->errlen, "%s:%d: ", w->file, line);
    if (n >= 0 && (size_t)n < c->errlen) vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    return VD_EPOLICY;
}

/* The line of keys (or of the array entry item) in the declaration's source text. */
static int line_of(cc_t *c, const where_t *w, const char *key, const char *sub, const char *item) {
    const char *keys[3];
    size_t n = 0;
    if (w->within) keys[n++] = w->within;
    if (key) keys[n++] = key;
    if (sub) keys[n++] = sub;
    vd_decl_at_t d = {w->kind, w->name, w->file, w->line};
    return vd_policy_key_line(c->p->src, &d, keys, n, item);
}

/* Fails at the declaration's line. */
static int failf(cc_t *c, const where_t *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, w, w->line, fmt, ap);
    va_end(ap);
    return rc;
}

/* Fails at the line of key in the declaration's table (of sub in key's table, when given). */
static int failk(cc_t *c, const where_t *w, const char *key, const char *sub, const char *fmt,
                 ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, w, line_of(c, w, key, sub, NULL), fmt, ap);
    va_end(ap);
    return rc;
}

/* Fails at the line of the array entry item in the declaration's table. */
static int fail_item(cc_t *c, const where_t *w, const char *item, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, w, line_of(c, w, NULL, NULL, item), fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(cc_t *c) {
    snprintf(c->err, c->errlen, "out of memory while compiling policies");
    return VD_ENOMEM;
}

/* Reads name/file/line of the record at the top of the stack, a declaration of kind. The
 * strings stay alive in the registry for as long as the state does. */
static where_t record_where(lua_State *L, const char *kind) {
    where_t w = {.kind = kind};
    lua_getfield(L, -1, "name");
    w.name = lua_tostring(L, -1);
    lua_getfield(L, -2, "file");
    w.file = lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
    lua_getfield(L, -3, "line");
    w.line = (int)lua_tointeger(L, -1);
    lua_pop(L, 3);
    return w;
}

/* Refuses keys of the spec at idx that are not in allowed (and array entries unless
 * allow_array). */
static int check_keys(cc_t *c, int idx, const char *const *allowed, const char *what,
                      const where_t *w, int allow_array) {
    lua_State *L = c->L;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER && allow_array) continue;
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int ok = 0;
        for (const char *const *a = allowed; key && *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char list[256] = "", h[VD_SUGGEST_HINT];
            vd_suggest_t sg;
            vd_suggest_init(&sg, key ? key : "");
            for (const char *const *a = allowed; *a; a++) {
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         a == allowed ? "" : ", ", *a);
                vd_suggest_offer(&sg, *a);
            }
            int rc = failk(c, w, key, NULL, "%s '%s': unknown key '%s' (%sknown keys: %s)", what,
                           w->name, key ? key : luaL_typename(L, -1),
                           vd_suggest_hint(&sg, "did you mean '%s'? ", h, sizeof h), list);
            lua_pop(L, 1);
            return rc;
        }
    }
    return 0;
}

/* Pushes spec[key] and checks its type (LUA_TNIL always passes). */
static int get_field(cc_t *c, int spec, const char *key, int type, const char *what,
                     const where_t *w) {
    int t = lua_getfield(c->L, spec, key);
    if (t == LUA_TNIL || t == type) return 0;
    int rc = failk(c, w, key, NULL, "%s '%s': '%s' must be a %s, not a %s", what, w->name, key,
                   lua_typename(c->L, type), luaL_typename(c->L, -1));
    lua_pop(c->L, 1);
    return rc;
}

static char *dup_opt(lua_State *L, int idx) {
    return lua_isstring(L, idx) ? strdup(lua_tostring(L, idx)) : NULL;
}

static int is_action_name(const char *s) {
    if (!islower((unsigned char)*s)) return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

static int compile_tags(cc_t *c, int idx, vd_rule_t *r, const where_t *w) {
    lua_State *L = c->L;
    size_t n = lua_rawlen(L, idx);
    if (!(r->tags = calloc(n + 1, sizeof *r->tags))) return oom(c);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i);
        if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1)) {
            lua_pop(L, 1);
            return failk(c, w, "tags", NULL, "rule '%s': tags must be non-empty strings", w->name);
        }
        if (!(r->tags[r->ntags++] = strdup(lua_tostring(L, -1)))) return oom(c);
        lua_pop(L, 1);
    }
    return 0;
}

static int compile_rule_body(cc_t *c, int spec, vd_rule_t *r, const where_t *w) {
    static const char *const keys[] = {"description", "score",  "when", "tags",
                                       "stop",        "detail", NULL};
    lua_State *L = c->L;
    int rc = check_keys(c, spec, keys, "rule", w, 0);
    if (rc) return rc;
    int t = lua_getfield(L, spec, "when");
    r->native = t == LUA_TUSERDATA && vd_lua_to_cond(L, -1) != NULL;
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return failf(c, w, "rule '%s' needs when = function(ev, ctx) ... end", w->name);
    }
    if (t != LUA_TFUNCTION && !r->native) {
        rc = failk(c, w, "when", NULL,
                   "rule '%s': 'when' must be a function or a verdict.when condition, not a %s",
                   w->name, luaL_typename(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    r->when_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if ((rc = get_field(c, spec, "stop", LUA_TSTRING, "rule", w))) return rc;
    r->stop = dup_opt(L, -1);
    lua_pop(L, 1);
    if ((rc = get_field(c, spec, "detail", LUA_TSTRING, "rule", w))) return rc;
    r->detail = dup_opt(L, -1);
    lua_pop(L, 1);
    if (r->detail && r->native)
        return failk(c, w, "detail", NULL,
                     "rule '%s': 'detail' formats what a when function returns; a verdict.when "
                     "condition gives its own detail",
                     w->name);
    t = lua_getfield(L, spec, "score");
    if (t == LUA_TFUNCTION) {
        r->score_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else if (t == LUA_TNUMBER && isfinite(lua_tonumber(L, -1))) {
        r->score = lua_tonumber(L, -1);
        lua_pop(L, 1);
    } else if (t == LUA_TNIL && r->stop) {
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        return failk(c, w, t == LUA_TNIL ? NULL : "score", NULL,
                     "rule '%s': score must be a finite number or a function%s", w->name,
                     t == LUA_TNIL ? " (or give the rule a stop action)" : "");
    }
    if ((rc = get_field(c, spec, "description", LUA_TSTRING, "rule", w))) return rc;
    r->description = dup_opt(L, -1);
    lua_pop(L, 1);
    if ((rc = get_field(c, spec, "tags", LUA_TTABLE, "rule", w))) return rc;
    if (!lua_isnil(L, -1)) rc = compile_tags(c, lua_gettop(L), r, w);
    lua_pop(L, 1);
    return rc;
}

static vd_rule_t *find_rule(vd_policy_t *p, const char *name) {
    for (size_t i = 0; i < p->nrules; i++)
        if (p->rules[i].name && strcmp(p->rules[i].name, name) == 0) return &p->rules[i];
    return NULL;
}

static int compile_rules(cc_t *c) {
    lua_State *L = c->L;
    vd_policy_t *p = c->p;
    lua_getfield(L, LUA_REGISTRYINDEX, VD_DSL_DECLS);
    lua_getfield(L, -1, "rules");
    size_t n = lua_rawlen(L, -1);
    if (!(p->rules = calloc(n ? n : 1, sizeof *p->rules))) return oom(c);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        where_t w = record_where(L, "rule");
        const vd_rule_t *dup = find_rule(p, w.name);
        vd_rule_t *r = &p->rules[p->nrules++];
        r->when_ref = r->score_ref = LUA_NOREF;
        if (!(r->name = strdup(w.name)) || !(r->file = strdup(w.file))) rc = oom(c);
        r->line = w.line;
        int has_spec = lua_getfield(L, -1, "spec") == LUA_TTABLE;
        if (rc == 0 && dup)
            rc =
                failf(c, &w, "rule '%s' is already defined at %s:%d", w.name, dup->file, dup->line);
        if (rc == 0 && !has_spec)
            rc =
                failf(c, &w, "rule '%s' has no body: write rule \"%s\" { when = ..., score = ... }",
                      w.name, w.name);
        if (rc == 0) rc = compile_rule_body(c, lua_gettop(L), r, &w);
        lua_pop(L, 2);
    }
    lua_pop(L, 2);
    return rc;
}

static int by_bound(const void *a, const void *b) {
    double x = ((const vd_threshold_t *)a)->bound, y = ((const vd_threshold_t *)b)->bound;
    return (x > y) - (x < y);
}

static int compile_actions(cc_t *c, int idx, vd_pipeline_t *pl, const where_t *w) {
    lua_State *L = c->L;
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        n++;
    }
    if (!(pl->actions = calloc(n ? n : 1, sizeof *pl->actions))) return oom(c);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int ok = name && is_action_name(name) && lua_type(L, -1) == LUA_TNUMBER &&
                 isfinite(lua_tonumber(L, -1));
        if (!ok) {
            int rc = failk(c, w, "actions", name,
                           "pipeline '%s': actions must map action names (lower_case) to finite "
                           "score bounds, e.g. actions = { challenge = 5, block = 12 }",
                           w->name);
            lua_pop(L, 2);
            return rc;
        }
        vd_threshold_t *t = &pl->actions[pl->nactions++];
        t->bound = lua_tonumber(L, -1);
        if (!(t->name = strdup(name))) {
            lua_pop(L, 2);
            return oom(c);
        }
        lua_pop(L, 1);
    }
    qsort(pl->actions, pl->nactions, sizeof *pl->actions, by_bound);
    for (size_t i = 0; i < pl->nactions; i++) {
        if (strcmp(pl->actions[i].name, pl->default_action) == 0)
            return failk(c, w, "actions", pl->default_action,
                         "pipeline '%s': '%s' is the default action and cannot have a bound",
                         w->name, pl->default_action);
        if (i > 0 && pl->actions[i].bound == pl->actions[i - 1].bound)
            return failk(c, w, "actions", pl->actions[i].name,
                         "pipeline '%s': actions '%s' and '%s' share the bound %g", w->name,
                         pl->actions[i - 1].name, pl->actions[i].name, pl->actions[i].bound);
    }
    if (!(pl->action_names = calloc(pl->nactions + 2, sizeof *pl->action_names))) return oom(c);
    pl->action_names[0] = pl->default_action;
    for (size_t i = 0; i < pl->nactions; i++)
        pl->action_names[i + 1] = pl->actions[i].name;
    return 0;
}

static int knows_action(const vd_pipeline_t *pl, const char *action) {
    for (const char **a = pl->action_names; *a; a++)
        if (strcmp(*a, action) == 0) return 1;
    return 0;
}

/* An action named by key of the declaration at w that pipeline pl does not have. */
static int unknown_action(cc_t *c, const where_t *w, const char *key, const char *what,
                          const char *action, const vd_pipeline_t *pl) {
    char list[256] = "", h[VD_SUGGEST_HINT];
    vd_suggest_t sg;
    vd_suggest_init(&sg, action);
    for (const char **a = pl->action_names; *a; a++) {
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 a == pl->action_names ? "" : ", ", *a);
        vd_suggest_offer(&sg, *a);
    }
    return failk(c, w, key, NULL, "%s uses action '%s', but pipeline '%s' (%s:%d) only has: %s%s",
                 what, action, pl->name, pl->file, pl->line, list,
                 vd_suggest_hint(&sg, " (did you mean '%s'?)", h, sizeof h));
}

static int unknown_rule(cc_t *c, const where_t *w, const char *name) {
    char h[VD_SUGGEST_HINT];
    vd_suggest_t sg;
    vd_suggest_init(&sg, name);
    for (size_t i = 0; i < c->p->nrules; i++)
        vd_suggest_offer(&sg, c->p->rules[i].name);
    return fail_item(c, w, name, "stage '%s': unknown rule '%s'%s", w->name, name,
                     vd_suggest_hint(&sg, " (did you mean '%s'?)", h, sizeof h));
}

/* Whether s goes into JSON as it is between quotes: printable ASCII but '"' and '\\'. */
static int json_plain(const char *s) {
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\') return 0;
    return 1;
}

/* {"rule":"<rule>","stage":"<stage>","score": for the decision log (policy.h); none when a
 * name needs escaping. Returns 0, or -1 when out of memory. */
static int make_reason_head(vd_reason_head_t *h, const char *rule, const char *stage) {
    if (!rule || !stage || !json_plain(rule) || !json_plain(stage)) return 0;
    size_t len =
        strlen(rule) + strlen(stage) + sizeof "{\"rule\":\"\",\"stage\":\"\",\"score\":" - 1;
    if (!(h->text = malloc(len + 1))) return -1;
    snprintf(h->text, len + 1, "{\"rule\":\"%s\",\"stage\":\"%s\",\"score\":", rule, stage);
    h->len = len;
    return 0;
}

static int compile_stage_rules(cc_t *c, int spec, vd_stage_t *st, const vd_pipeline_t *pl,
                               const where_t *w) {
    lua_State *L = c->L;
    size_t n = lua_rawlen(L, spec);
    if (n == 0)
        return failf(c, w, "stage '%s' lists no rules: stage \"%s\" { \"rule_a\", \"rule_b\" }",
                     w->name, w->name);
    if (!(st->rules = calloc(n, sizeof *st->rules))) return oom(c);
    if (!(st->rule_stats = calloc(n, sizeof *st->rule_stats))) return oom(c);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, spec, (lua_Integer)i);
        const char *rname = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        vd_rule_t *r = rname ? find_rule(c->p, rname) : NULL;
        lua_pop(L, 1);
        if (!rname) return failf(c, w, "stage '%s': entry %d must be a rule name", w->name, (int)i);
        if (!r) return unknown_rule(c, w, rname);
        if (r->stop && !knows_action(pl, r->stop)) {
            where_t rw = {r->name, r->file, r->line, "rule", NULL};
            char what[160];
            snprintf(what, sizeof what, "rule '%s' (stop)", r->name);
            return unknown_action(c, &rw, "stop", what, r->stop, pl);
        }
        st->rules[st->nrules++] = r;
    }
    if (!(st->reason_heads = calloc(n, sizeof *st->reason_heads))) return oom(c);
    for (size_t i = 0; i < st->nrules; i++)
        if (make_reason_head(&st->reason_heads[i], st->rules[i]->name, st->name) != 0)
            return oom(c);
    return 0;
}

/* shadow, description, timeout_ms and on_error: what every kind of stage understands. */
static int compile_stage_common(cc_t *c, int spec, vd_stage_t *st, const vd_pipeline_t *pl,
                                const where_t *w) {
    lua_State *L = c->L;
    int rc = get_field(c, spec, "shadow", LUA_TBOOLEAN, "stage", w);
    if (rc) return rc;
    st->shadow = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if ((rc = get_field(c, spec, "description", LUA_TSTRING, "stage", w))) return rc;
    st->description = dup_opt(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, spec, "timeout_ms") != LUA_TNIL) {
        lua_Integer t = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
        if (t < 1 || t > 3600000)
            rc = failk(c, w, "timeout_ms", NULL,
                       "stage '%s': timeout_ms must be an integer from 1 to 3600000", st->name);
        st->timeout_ms = (int)t;
    }
    lua_pop(L, 1);
    if (rc) return rc;
    if ((rc = get_field(c, spec, "on_error", LUA_TSTRING, "stage", w))) return rc;
    const char *oe = lua_tostring(L, -1);
    if (oe && strcmp(oe, "open") != 0) {
        char what[160];
        snprintf(what, sizeof what, "stage '%s' (on_error)", st->name);
        rc = knows_action(pl, oe) ? 0 : unknown_action(c, w, "on_error", what, oe, pl);
        if (rc == 0 && !(st->on_error = strdup(oe))) rc = oom(c);
    }
    lua_pop(L, 1);
    return rc;
}

static int unique_stage_name(cc_t *c, const vd_stage_t *st, const vd_pipeline_t *pl,
                             const where_t *w) {
    for (const vd_stage_t *o = pl->stages; o < st; o++)
        if (strcmp(o->name, st->name) == 0)
            return failf(c, w, "pipeline '%s' has two stages named '%s'", pl->name, st->name);
    return 0;
}

static int compile_rule_stage(cc_t *c, vd_stage_t *st, const vd_pipeline_t *pl) {
    static const char *const keys[] = {"shadow",     "on_error",    "description",
                                       "timeout_ms", "as_features", NULL};
    lua_State *L = c->L;
    where_t w = record_where(L, "stage");
    st->kind = VD_STAGE_RULES;
    if (!(st->name = strdup(w.name)) || !(st->file = strdup(w.file))) return oom(c);
    st->line = w.line;
    int rc = unique_stage_name(c, st, pl, &w);
    if (rc) return rc;
    lua_getfield(L, -1, "spec");
    int spec = lua_gettop(L);
    rc = check_keys(c, spec, keys, "stage", &w, 1);
    if (rc == 0) rc = compile_stage_common(c, spec, st, pl, &w);
    if (rc == 0) rc = get_field(c, spec, "as_features", LUA_TBOOLEAN, "stage", &w);
    if (rc == 0) {
        st->as_features = lua_toboolean(L, -1);
        lua_pop(L, 1);
        rc = compile_stage_rules(c, spec, st, pl, &w);
    }
    lua_pop(L, 1);
    return rc;
}

/* The stage name of plugin "x": its `name` key, else the file name without directory and
 * ".so" (so plugin "plugins/geo.so" is stage "geo"). */
static char *plugin_stage_name(lua_State *L, int spec, const char *plugin) {
    if (lua_getfield(L, spec, "name") == LUA_TSTRING) {
        char *n = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        return n;
    }
    lua_pop(L, 1);
    const char *base = strrchr(plugin, '/');
    base = base ? base + 1 : plugin;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0) n -= 3;
    return strndup(base, n);
}

static int compile_plugin_stage(cc_t *c, vd_stage_t *st, vd_pipeline_t *pl) {
    static const char *const engine_keys[] = {"name",        "shadow",     "on_error",
                                              "description", "timeout_ms", NULL};
    lua_State *L = c->L;
    where_t w = record_where(L, "plugin");
    st->kind = VD_STAGE_PLUGIN;
    lua_getfield(L, -1, "spec");
    int spec = lua_gettop(L), rc = 0;
    if (!(st->name = plugin_stage_name(L, spec, w.name)) || !(st->file = strdup(w.file)))
        rc = oom(c);
    st->line = w.line;
    if (rc == 0) rc = unique_stage_name(c, st, pl, &w);
    if (rc == 0) rc = compile_stage_common(c, spec, st, pl, &w);
    char perr[1024];
    vd_plugin_config_t *config = NULL;
    vd_plugin_lib_t *lib = NULL;
    if (rc == 0 && !c->p->plugins)
        rc = failf(c, &w, "plugin '%s': plugin stages cannot be used here", w.name);
    if (rc == 0 && vd_plugin_config_from_lua(L, spec, engine_keys, &config, perr, sizeof perr))
        rc = failf(c, &w, "plugin '%s': %s", w.name, perr);
    if (rc == 0 &&
        vd_plugin_registry_open(c->p->plugins, w.name, c->p->src->dir, &lib, perr, sizeof perr))
        rc = failf(c, &w, "%s", perr);
    if (rc == 0) {
        rc = vd_plugin_stage_create(&st->plugin, lib, config, st->name, pl->name, c->p->src->dir,
                                    vd_lua_ls(L)->limits.data_dir, perr, sizeof perr);
        config = NULL; /* taken over, even on failure */
        if (rc)
            rc = failf(c, &w, "%s", perr);
        else
            st->plugin->timeout_ms = st->timeout_ms ? st->timeout_ms : 1000;
    }
    vd_plugin_config_free(config);
    pl->has_plugins = 1;
    lua_pop(L, 1);
    return rc;
}

static int compile_stages(cc_t *c, int idx, vd_pipeline_t *pl, const where_t *w) {
    lua_State *L = c->L;
    size_t n = lua_rawlen(L, idx);
    if (!(pl->stages = calloc(n ? n : 1, sizeof *pl->stages))) return oom(c);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i);
        int is_stage = 0;
        if (lua_type(L, -1) == LUA_TTABLE) {
            is_stage = lua_getfield(L, -1, VD_DSL_STAGE_MARK) == LUA_TBOOLEAN;
            lua_pop(L, 1);
        }
        if (!is_stage) {
            lua_pop(L, 1);
            return failk(c, w, "stages", NULL,
                         "pipeline '%s': stages[%d] must be stage \"name\" { rules... } or "
                         "plugin \"name\" { ... }",
                         w->name, (int)i);
        }
        pl->nstages++;
        int is_plugin = lua_getfield(L, -1, VD_DSL_PLUGIN_MARK) == LUA_TBOOLEAN;
        lua_pop(L, 1);
        int rc = is_plugin ? compile_plugin_stage(c, &pl->stages[i - 1], pl)
                           : compile_rule_stage(c, &pl->stages[i - 1], pl);
        lua_pop(L, 1);
        if (rc) return rc;
    }
    return 0;
}

/* A list of top-level event field names (log.hash, log.drop) at the top of the stack. */
static int field_list(cc_t *c, const char *key, char ***out, size_t *n, const where_t *w) {
    lua_State *L = c->L;
    if (lua_isnil(L, -1)) return 0;
    size_t len = lua_rawlen(L, -1);
    if (!(*out = calloc(len ? len : 1, sizeof **out))) return oom(c);
    for (size_t i = 1; i <= len; i++) {
        if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING) {
            lua_pop(L, 1);
            return failk(c, w, key, NULL,
                         "pipeline '%s': log.%s must list event field names, like "
                         "{ \"email\", \"phone\" }",
                         w->name, key);
        }
        if (!((*out)[(*n)++] = strdup(lua_tostring(L, -1)))) {
            lua_pop(L, 1);
            return oom(c);
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* log = false, or log = { sample = 0.1, time_field = "ts", hash = {...}, drop = {...},
 * salt = "..." }: what the decision log keeps of this pipeline. */
static int compile_log(cc_t *c, int spec, vd_pipeline_t *pl, const where_t *w) {
    static const char *const keys[] = {"sample", "time_field", "hash", "drop", "salt", NULL};
    lua_State *L = c->L;
    vd_pipeline_log_t *lg = &pl->log;
    lg->sample = 1;
    int t = lua_getfield(L, spec, "log");
    int rc = 0;
    if (t == LUA_TBOOLEAN) {
        lg->off = !lua_toboolean(L, -1);
    } else if (t == LUA_TTABLE) {
        int idx = lua_gettop(L);
        where_t lw = *w;
        lw.within = "log";
        rc = check_keys(c, idx, keys, "log of pipeline", &lw, 0);
        if (rc == 0) rc = get_field(c, idx, "sample", LUA_TNUMBER, "log of pipeline", &lw);
        if (rc == 0) {
            if (!lua_isnil(L, -1)) lg->sample = lua_tonumber(L, -1);
            lua_pop(L, 1);
            if (!(lg->sample > 0 && lg->sample <= 1))
                rc = failk(c, &lw, "sample", NULL,
                           "pipeline '%s': log.sample must be above 0 and at most 1 (the "
                           "share of decisions logged)",
                           w->name);
        }
        if (rc == 0) rc = get_field(c, idx, "time_field", LUA_TSTRING, "log of pipeline", &lw);
        if (rc == 0) {
            lg->time_field = dup_opt(L, -1);
            lua_pop(L, 1);
            rc = get_field(c, idx, "salt", LUA_TSTRING, "log of pipeline", &lw);
        }
        if (rc == 0) {
            lg->salt = dup_opt(L, -1);
            lua_pop(L, 1);
            rc = get_field(c, idx, "hash", LUA_TTABLE, "log of pipeline", &lw);
        }
        if (rc == 0) {
            rc = field_list(c, "hash", &lg->hash, &lg->nhash, &lw);
            lua_pop(L, 1);
        }
        if (rc == 0) rc = get_field(c, idx, "drop", LUA_TTABLE, "log of pipeline", &lw);
        if (rc == 0) {
            rc = field_list(c, "drop", &lg->drop, &lg->ndrop, &lw);
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        rc = failk(c, w, "log", NULL,
                   "pipeline '%s': log must be false or a table { sample = ..., hash = "
                   "{...}, drop = {...} }, not a %s",
                   w->name, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (rc == 0 && !lg->time_field && !(lg->time_field = strdup("time"))) rc = oom(c);
    if (rc == 0 && !lg->salt && !(lg->salt = strdup(""))) rc = oom(c);
    return rc;
}

/* fields = { ip = "ip", email = "string", age = "number?" }: the event schema. */
static int compile_fields(cc_t *c, int spec, vd_pipeline_t *pl, const where_t *w) {
    int rc = get_field(c, spec, "fields", LUA_TTABLE, "pipeline", w);
    if (rc || lua_isnil(c->L, -1)) {
        if (!rc) lua_pop(c->L, 1);
        return rc;
    }
    char why[600];
    const char *field;
    rc = vd_schema_compile(c->L, -1, &pl->fields, &field, why, sizeof why);
    if (rc == VD_EPOLICY) rc = failk(c, w, "fields", field, "pipeline '%s': %s", w->name, why);
    lua_pop(c->L, 1);
    return rc == VD_ENOMEM ? oom(c) : rc;
}

static int compile_pipeline(cc_t *c, vd_pipeline_t *pl) {
    static const char *const keys[] = {"description", "stages", "actions", "default",
                                       "log",         "fields", NULL};
    lua_State *L = c->L;
    where_t w = record_where(L, "pipeline");
    if (!(pl->name = strdup(w.name)) || !(pl->file = strdup(w.file))) return oom(c);
    pl->line = w.line;
    if (lua_getfield(L, -1, "spec") != LUA_TTABLE) {
        lua_pop(L, 1);
        return failf(c, &w, "pipeline '%s' has no body: write pipeline \"%s\" { stages = ... }",
                     w.name, w.name);
    }
    int spec = lua_gettop(L), rc = check_keys(c, spec, keys, "pipeline", &w, 0);
    if (rc == 0) rc = get_field(c, spec, "default", LUA_TSTRING, "pipeline", &w);
    if (rc == 0) {
        const char *def = lua_isnil(L, -1) ? "allow" : lua_tostring(L, -1);
        if (!is_action_name(def))
            rc = failk(c, &w, "default", NULL,
                       "pipeline '%s': default action '%s' is not a lower_case name", w.name, def);
        else if (!(pl->default_action = strdup(def)))
            rc = oom(c);
        lua_pop(L, 1);
    }
    if (rc == 0) rc = get_field(c, spec, "description", LUA_TSTRING, "pipeline", &w);
    if (rc == 0) {
        pl->description = dup_opt(L, -1);
        lua_pop(L, 1);
        rc = get_field(c, spec, "actions", LUA_TTABLE, "pipeline", &w);
    }
    if (rc == 0) {
        if (lua_isnil(L, -1)) lua_newtable(L), lua_remove(L, -2);
        rc = compile_actions(c, lua_gettop(L), pl, &w);
        lua_pop(L, 1);
    }
    if (rc == 0) rc = compile_log(c, spec, pl, &w);
    if (rc == 0) rc = compile_fields(c, spec, pl, &w);
    if (rc == 0) rc = get_field(c, spec, "stages", LUA_TTABLE, "pipeline", &w);
    if (rc == 0) {
        if (lua_isnil(L, -1))
            rc = failf(c, &w, "pipeline '%s' needs stages = { stage \"...\" {...}, ... }", w.name);
        else
            rc = compile_stages(c, lua_gettop(L), pl, &w);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

static int compile_pipelines(cc_t *c) {
    lua_State *L = c->L;
    vd_policy_t *p = c->p;
    lua_getfield(L, LUA_REGISTRYINDEX, VD_DSL_DECLS);
    lua_getfield(L, -1, "pipelines");
    size_t n = lua_rawlen(L, -1);
    if (!(p->pipelines = calloc(n ? n : 1, sizeof *p->pipelines))) return oom(c);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        vd_pipeline_t *pl = &p->pipelines[p->npipelines++];
        rc = compile_pipeline(c, pl);
        for (size_t j = 0; rc == 0 && j + 1 < p->npipelines; j++) {
            if (strcmp(p->pipelines[j].name, pl->name) == 0) {
                where_t w = {pl->name, pl->file, pl->line, "pipeline", NULL};
                rc = failf(c, &w, "pipeline '%s' is already defined at %s:%d", pl->name,
                           p->pipelines[j].file, p->pipelines[j].line);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return rc;
}

int vd_policy_compile(vd_policy_t *p, char *err, size_t errlen) {
    cc_t c = {.L = p->L, .p = p, .err = err, .errlen = errlen};
    int rc = compile_rules(&c);
    if (rc == 0) rc = compile_pipelines(&c);
    if (rc == 0 && p->npipelines == 0) {
        snprintf(err, errlen, "%s: no pipeline is declared (pipeline \"name\" { ... })",
                 p->src->dir);
        rc = VD_EPOLICY;
    }
    return rc;
}

static void free_stage(vd_stage_t *st) {
    for (size_t i = 0; st->reason_heads && i < st->nrules; i++)
        free(st->reason_heads[i].text);
    free(st->reason_heads);
    vd_plugin_stage_free(st->plugin);
    free(st->name);
    free(st->description);
    free(st->file);
    free(st->rules);
    free(st->rule_stats);
    free(st->on_error);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void vd_policy_compiled_free(vd_policy_t *p) {
    for (size_t i = 0; i < p->nrules; i++) {
        vd_rule_t *r = &p->rules[i];
        for (size_t t = 0; t < r->ntags; t++)
            free(r->tags[t]);
        free(r->detail);
        free(r->tags);
        free(r->name);
        free(r->description);
        free(r->file);
        free(r->stop);
    }
    free(p->rules);
    for (size_t i = 0; i < p->npipelines; i++) {
        vd_pipeline_t *pl = &p->pipelines[i];
        for (size_t s = 0; s < pl->nstages; s++)
            free_stage(&pl->stages[s]);
        for (size_t a = 0; a < pl->nactions; a++)
            free(pl->actions[a].name);
        free(pl->stages);
        free(pl->actions);
        free(pl->action_names);
        free(pl->name);
        free(pl->description);
        free(pl->file);
        free(pl->default_action);
        free_names(pl->log.hash, pl->log.nhash);
        free_names(pl->log.drop, pl->log.ndrop);
        free(pl->log.time_field);
        free(pl->log.salt);
        vd_schema_free(&pl->fields);
    }
    free(p->pipelines);
}
