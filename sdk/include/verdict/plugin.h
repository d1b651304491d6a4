/* verdict/plugin.h: the Verdict plugin ABI.
 *
 * A plugin is a shared object that adds a stage to Verdict pipelines: an ML scorer, a lookup
 * in a database, a call to another service. It exports one symbol, verdict_plugin_entry,
 * returning a static vd_plugin_t descriptor. verdictd hands the plugin a table of host
 * functions (vd_host_api_t) through which it reads its configuration and each request, and
 * emits scores, reasons, tags and features. Only opaque handles cross the boundary: no libuv,
 * Lua or msgpack type appears here, and the header needs only <stddef.h> and <stdint.h>.
 *
 * ---------------------------------------------------------------------------------------------
 * Versioning (read this before changing anything below)
 *
 *   VD_PLUGIN_ABI_MAJOR changes when anything below changes incompatibly: a struct field moved,
 *   removed or retyped, a function's meaning or signature changed. Plugins built for another
 *   major are refused at load.
 *
 *   VD_PLUGIN_ABI_MINOR grows when something is *appended*: a function at the end of
 *   vd_host_api_t, a field at the end of vd_plugin_t (taking a spare slot), a new constant.
 *   A host accepts a plugin whose minor is less than or equal to its own; a plugin built
 *   against a newer minor is refused, because it may call functions this host lacks. A
 *   plugin that wants to run on older hosts checks api->abi_minor (or api->size) before
 *   calling a function added later.
 *
 *   Both structs carry their own size, so either side can tell what the other knows.
 *
 * Changelog
 *   1.0  first version.
 *   1.1  setup_describe(): a stage says what it runs (a model's version), shown by the
 *        pipelines and stats methods. config_check_keys(): refuse unknown keys in one call.
 *        file_version(): a short name for a file's content (a model's version).
 *   1.2  state_counter(), state_distinct(), state_labeled(), state_label(): the counters,
 *        distinct counts and labels rules use (embedded or in Redis), with vd_state_answer_t.
 *   1.3  campaign_text(), campaign_fields(): the campaign index rules reach through
 *        verdict.campaign (near-duplicate texts, lockstep groups of field values), with
 *        vd_campaign_options_t and vd_campaign_answer_t.
 *   1.4  anomaly(): a value scored against its series' streaming model, as verdict.anomaly;
 *        profile(): an entity's behaviour profile, as verdict.profile; with their options and
 *        answers (vd_anomaly_*, vd_profile_*).
 * ---------------------------------------------------------------------------------------------
 *
 * Lifecycle and threads
 *
 *   init()     once per loaded copy, when a policy first names the plugin. verdictd loads
 *              a private copy of the file's bytes: a reload that finds a new build loads it
 *              beside the old one, each copy with its own static variables and its own
 *              init() and fini(). It receives the host API, which stays valid until fini().
 *              Not called concurrently with anything else of the same copy.
 *   create()   once per pipeline stage per worker thread: every worker has its own copy of the
 *              policy and so its own instance. Reads the stage's configuration, resolves field
 *              and feature names to handles, opens files. May run on any thread, possibly at
 *              the same time as score() of other instances and destroy() of older ones.
 *   score()    called on the worker thread that owns the instance, one call at a time per
 *              instance. It returns VD_PLUGIN_OK (done), VD_PLUGIN_PENDING (it will call
 *              api->complete later, from any thread) or VD_PLUGIN_ERROR. While one call is
 *              pending, score() may be called again for other requests.
 *   destroy()  when the policy that created the instance is no longer used (after a reload
 *              has drained, or at exit), and only once every pending call of the instance was
 *              completed. Any thread. When it returns, no thread of the instance may run.
 *   fini()     when the copy is unloaded, after its last instance was destroyed: at exit, or
 *              once a reload replaced the build (or dropped the plugin) and the old policy
 *              drained. On that thread. When it returns, no thread of the plugin may run:
 *              its code is unmapped next.
 *
 * A plugin runs inside verdictd: a crash in it (a bad pointer, abort(), a stack overflow)
 * ends the daemon with every request in flight. verdictd then logs a crash report naming
 * the plugin, the call, the stage and the pipeline, and exits for a supervisor to restart
 * it. Check what you load (sizes, counts, indices) in create(), not in score().
 *
 * Ownership
 *
 *   Everything the host hands out (strings, values, configuration nodes, handles) is
 *   borrowed: configuration nodes for the duration of create(), request data until the call
 *   completes. Copy what you keep. Everything the plugin passes in (strings, details, tags)
 *   is copied by the host before the function returns.
 */
#ifndef VERDICT_PLUGIN_H
#define VERDICT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VD_PLUGIN_ABI_MAJOR 1
#define VD_PLUGIN_ABI_MINOR 4

/* The name of the one symbol a plugin exports. */
#define VD_PLUGIN_ENTRY_SYMBOL "verdict_plugin_entry"

#if defined(__GNUC__)
#define VD_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VD_PLUGIN_EXPORT
#endif

/* Results of plugin callbacks and host functions. */
enum {
    VD_PLUGIN_OK = 0,
    VD_PLUGIN_PENDING = 1,    /* score(): the call completes later through api->complete */
    VD_PLUGIN_ERROR = -1,     /* failure; see the function for what it means */
    VD_PLUGIN_NOTFOUND = -2,  /* the field, feature or key is absent */
    VD_PLUGIN_WRONGTYPE = -3, /* present, but of another type than asked */
};

/* Types of configuration nodes and request values. */
typedef enum {
    VD_PLUGIN_NONE = 0, /* absent */
    VD_PLUGIN_NIL,
    VD_PLUGIN_BOOL,
    VD_PLUGIN_INT,
    VD_PLUGIN_FLOAT,
    VD_PLUGIN_STRING,
    VD_PLUGIN_ARRAY,
    VD_PLUGIN_MAP,
} vd_plugin_type_t;

typedef enum {
    VD_PLUGIN_LOG_DEBUG,
    VD_PLUGIN_LOG_INFO,
    VD_PLUGIN_LOG_WARN,
    VD_PLUGIN_LOG_ERROR
} vd_plugin_log_level_t;

/* Opaque handles. */
typedef struct vd_plugin_setup vd_plugin_setup_t;   /* what create() works with */
typedef struct vd_plugin_config vd_plugin_config_t; /* a node of the stage configuration */
typedef struct vd_plugin_call vd_plugin_call_t;     /* one score() call: a request */
typedef struct vd_plugin_value vd_plugin_value_t;   /* a value inside the event */

/* Event fields and features, resolved by name once in create(). 0 is never a valid handle. */
typedef uint32_t vd_plugin_field_t;
typedef uint32_t vd_plugin_feature_t;

/* The answer to a state read (1.2). */
typedef struct vd_state_answer {
    int64_t counts[3];    /* state_counter: the last minute, hour and day, after the addition */
    int64_t value;        /* state_distinct: the estimate; state_labeled: seconds left, -1 unset */
    const char *fallback; /* NULL, or why the state backend did not answer (the configured
                           * fallback did: local state, or zeros when it fails open) */
} vd_state_answer_t;

/* Receives a state answer on the worker thread; answer is valid during the call only. */
typedef void (*vd_state_done_t)(void *ud, const vd_state_answer_t *answer);

/* How an item is filed into a campaign (1.3). Zero it, set size = sizeof, then what you need:
 * fields may be appended in later minors, and the host reads only the first size bytes. */
typedef struct vd_campaign_options {
    uint32_t size;      /* sizeof(vd_campaign_options_t) */
    int look_only;      /* find the campaign without counting the item or starting one */
    const char *source; /* who sent the item (a sender, a /24): counted distinct; or NULL */
    size_t source_len;
    const char *scope; /* campaigns of different scopes never mix; NULL: the rules' default */
    size_t scope_len;
    int64_t window_s; /* 0: a day for texts, an hour for fields (60 s to 30 days) */
    int64_t ttl_s;    /* idle seconds before the campaign is forgotten; 0: the default */
} vd_campaign_options_t;

/* A campaign after the item was counted (1.3); the same view as verdict.campaign's. */
typedef struct vd_campaign_answer {
    uint64_t id;
    int found;         /* 0: no campaign (a text too short to compare, or look_only and none) */
    int created;       /* this item started it */
    double similarity; /* texts: share of the sketch agreeing with the campaign's first text */
    int64_t size;      /* items since first seen */
    int64_t recent;    /* items within the campaign's window */
    int64_t growth_1h; /* items within the last hour */
    int64_t sources;   /* distinct sources within the window (approximate) */
    int64_t first_seen, last_seen, window_s; /* Unix seconds; seconds */
    double bad, good;                        /* weights of the reports received */
    int64_t reporters;                       /* distinct reporters */
    const char *fallback;                    /* NULL, or why the campaign backend did not answer */
} vd_campaign_answer_t;

/* Receives a campaign answer on the worker thread; answer is valid during the call only. */
typedef void (*vd_campaign_done_t)(void *ud, const vd_campaign_answer_t *answer);

/* One categorical value of a lockstep group (1.3). */
typedef struct vd_campaign_field {
    const char *name; /* NUL-terminated */
    const char *value;
    size_t value_len;
} vd_campaign_field_t;

/* How a value is scored (1.4). Zero it, set size = sizeof, then what you need. */
typedef struct vd_anomaly_options {
    uint32_t size;   /* sizeof(vd_anomaly_options_t) */
    int64_t every_s; /* the model learns at most the first value of each period of every_s
                        seconds (1 to 86400; 0: 60, as verdict.anomaly); the others are scored
                        against the model as it stands */
} vd_anomaly_options_t;

/* What a series' model said of a value (1.4); the same as verdict.anomaly's table. */
typedef struct vd_anomaly_answer {
    double score;               /* 0 (ordinary for this series) to 1 */
    int alarm;                  /* score >= 0.5 */
    int above, below, novel;    /* outside the band; beyond every value seen lately */
    int learning;               /* too few values yet: the score is 0 */
    double expected, low, high; /* the expectation and the band of ordinary values */
    double surprise;            /* the distance from the expectation, in typical errors */
    int64_t seen;               /* values the model had learnt */
    const char *why;            /* one line for people, naming the series by its key */
} vd_anomaly_answer_t;

/* Receives an anomaly answer on the worker thread; answer is valid during the call only. */
typedef void (*vd_anomaly_done_t)(void *ud, const vd_anomaly_answer_t *answer);

/* One attribute of an event for a behaviour profile (1.4): a country, a device family. */
typedef struct vd_profile_value {
    const char *name; /* NUL-terminated */
    const char *value;
    size_t value_len;
} vd_profile_value_t;

/* How a profile is read (1.4). Zero it, set size = sizeof, then what you need. */
typedef struct vd_profile_options {
    uint32_t size;       /* sizeof(vd_profile_options_t) */
    int read_only;       /* answer without adding the event */
    int64_t half_life_s; /* how fast old habits fade; 0: 30 days */
    int has_place;       /* lat, lon: where the event comes from (for travel) */
    double lat, lon;
} vd_profile_options_t;

/* What the profile knew of one value before this event (1.4). */
typedef struct vd_profile_habit {
    int known;         /* the value came before (and has not decayed away) */
    double count;      /* its decayed count */
    double share;      /* its share of the attribute's decayed events, 0 to 1 */
    int64_t last_seen; /* Unix seconds; 0 when unknown */
    int64_t values;    /* values the profile holds for the attribute */
} vd_profile_habit_t;

/* A profile's answer (1.4); the same as verdict.profile's table. */
typedef struct vd_profile_result {
    int64_t events;                 /* the entity's events before this one */
    int64_t first_seen, last_seen;  /* Unix seconds; 0 when there were none */
    const vd_profile_habit_t *seen; /* one per value asked, in their order */
    size_t n;
    int has_travel; /* a place now and before: */
    double travel_km, travel_hours;
} vd_profile_result_t;

/* Receives a profile answer on the worker thread; answer is valid during the call only. */
typedef void (*vd_profile_done_t)(void *ud, const vd_profile_result_t *answer);

/* The host functions. Append-only: new functions go at the end and raise the minor. */
typedef struct vd_host_api {
    uint32_t size; /* sizeof(vd_host_api_t) as the host knows it */
    uint32_t abi_major, abi_minor;
    uint32_t reserved;

    /* ---- 1.0: logging (any thread) ---- */

    /* Writes one line to verdictd's log, prefixed with the plugin's name. */
    void (*log)(vd_plugin_log_level_t level, const char *plugin, const char *message);

    /* ---- 1.0: configuration (inside create() only) ---- */

    /* The stage's configuration: a map of everything in `plugin "name" { ... }` except the
     * keys the engine itself reads (shadow, on_error, timeout_ms, description, name). */
    const vd_plugin_config_t *(*setup_config)(vd_plugin_setup_t *s);
    /* The stage name (the `name` key, or the plugin name). Valid during create(). */
    const char *(*setup_stage)(vd_plugin_setup_t *s);
    /* Resolves a path from the configuration against the policy directory (absolute paths
     * are kept), following links. Writes a NUL-terminated path into out; returns
     * VD_PLUGIN_OK, or ERROR when it does not fit or the file lies outside the policy
     * directory and the daemon's --data-dir (the host then reports that as the reason).
     * Open every file the configuration names through it. */
    int (*setup_path)(vd_plugin_setup_t *s, const char *path, char *out, size_t cap);
    /* Resolves an event field: "ip", or a dotted path into nested maps ("user.id"). Returns a
     * handle, or 0 when the path is empty or too long. The field need not exist in events. */
    vd_plugin_field_t (*setup_field)(vd_plugin_setup_t *s, const char *path);
    /* Resolves a feature name (read from earlier stages, or written by this one). */
    vd_plugin_feature_t (*setup_feature)(vd_plugin_setup_t *s, const char *name);

    /* The type of a configuration node; NONE for NULL. */
    vd_plugin_type_t (*config_type)(const vd_plugin_config_t *c);
    /* The value of key in a map node, or NULL. */
    const vd_plugin_config_t *(*config_get)(const vd_plugin_config_t *map, const char *key);
    /* Entries of an array or map node; 0 for other types. */
    size_t (*config_len)(const vd_plugin_config_t *c);
    /* The i-th item of an array, or the i-th value of a map; NULL when out of range. */
    const vd_plugin_config_t *(*config_at)(const vd_plugin_config_t *c, size_t i);
    /* The i-th key of a map; NULL when out of range. */
    const char *(*config_key_at)(const vd_plugin_config_t *map, size_t i);
    /* A string node's text (NUL-terminated), or NULL for other types. */
    const char *(*config_string)(const vd_plugin_config_t *c);
    /* A number node (integers included) into *out; WRONGTYPE/NOTFOUND otherwise. */
    int (*config_number)(const vd_plugin_config_t *c, double *out);
    /* A boolean node into *out (0 or 1); WRONGTYPE/NOTFOUND otherwise. */
    int (*config_bool)(const vd_plugin_config_t *c, int *out);

    /* ---- 1.0: reading the request (in score(), or until complete() for pending calls) ---- */

    vd_plugin_type_t (*field_type)(vd_plugin_call_t *call, vd_plugin_field_t f);
    /* String (or binary) field: *ptr is not NUL-terminated; borrow it, copy what you keep. */
    int (*field_string)(vd_plugin_call_t *call, vd_plugin_field_t f, const char **ptr, size_t *len);
    int (*field_int)(vd_plugin_call_t *call, vd_plugin_field_t f, int64_t *out);
    /* Floats, and integers converted to double. */
    int (*field_float)(vd_plugin_call_t *call, vd_plugin_field_t f, double *out);
    int (*field_bool)(vd_plugin_call_t *call, vd_plugin_field_t f, int *out);
    /* Any field as a value, for arrays and maps; NULL when absent. */
    const vd_plugin_value_t *(*field_value)(vd_plugin_call_t *call, vd_plugin_field_t f);

    vd_plugin_type_t (*value_type)(const vd_plugin_value_t *v);
    int (*value_string)(const vd_plugin_value_t *v, const char **ptr, size_t *len);
    int (*value_int)(const vd_plugin_value_t *v, int64_t *out);
    int (*value_float)(const vd_plugin_value_t *v, double *out);
    int (*value_bool)(const vd_plugin_value_t *v, int *out);
    /* Items of an array, entries of a map. */
    size_t (*value_len)(const vd_plugin_value_t *v);
    /* The i-th array item or map value; NULL when out of range. */
    const vd_plugin_value_t *(*value_at)(const vd_plugin_value_t *v, size_t i);
    /* The i-th map key; NULL when out of range or not a map. */
    const vd_plugin_value_t *(*value_key_at)(const vd_plugin_value_t *v, size_t i);
    /* The value of a string key in a map; NULL when absent. */
    const vd_plugin_value_t *(*value_get)(const vd_plugin_value_t *map, const char *key,
                                          size_t len);

    /* A feature set earlier in the request: its type, and typed reads as above. */
    vd_plugin_type_t (*feature_type)(vd_plugin_call_t *call, vd_plugin_feature_t f);
    int (*feature_float)(vd_plugin_call_t *call, vd_plugin_feature_t f, double *out);
    int (*feature_string)(vd_plugin_call_t *call, vd_plugin_feature_t f, const char **ptr,
                          size_t *len);
    int (*feature_bool)(vd_plugin_call_t *call, vd_plugin_feature_t f, int *out);

    /* ---- 1.0: outputs (in score(), or from any one thread until complete()) ---- */

    /* Adds score points with a reason: rule names what fired (NULL: the stage name), detail
     * is optional. A score (and a float feature) that is not finite is refused
     * (VD_PLUGIN_ERROR): an infinity would make the total NaN. */
    int (*add_score)(vd_plugin_call_t *call, double score, const char *rule, const char *detail);
    int (*add_tag)(vd_plugin_call_t *call, const char *tag);
    int (*set_feature_float)(vd_plugin_call_t *call, vd_plugin_feature_t f, double v);
    int (*set_feature_int)(vd_plugin_call_t *call, vd_plugin_feature_t f, int64_t v);
    int (*set_feature_string)(vd_plugin_call_t *call, vd_plugin_feature_t f, const char *s,
                              size_t len);
    int (*set_feature_bool)(vd_plugin_call_t *call, vd_plugin_feature_t f, int v);
    /* Records why the call failed (shown in the reply's faults); use before returning
     * VD_PLUGIN_ERROR or completing with it. */
    void (*set_error)(vd_plugin_call_t *call, const char *message);

    /* ---- 1.0: asynchronous completion ---- */

    /* Completes a call for which score() returned VD_PLUGIN_PENDING, with VD_PLUGIN_OK or
     * VD_PLUGIN_ERROR. Safe from any thread, exactly once per pending call; the call handle
     * is invalid afterwards. When the stage's deadline passed first, the outputs are dropped
     * and the host has already moved on. */
    void (*complete)(vd_plugin_call_t *call, int status);
    /* Milliseconds left before the stage's deadline (0 when passed; INT64_MAX when none). */
    int64_t (*call_time_left_ms)(vd_plugin_call_t *call);

    /* ---- 1.1 (check api->abi_minor >= 1 before calling) ---- */

    /* In create(): records key = value about the stage (for example "model" =
     * "mail.json@3f2a..."), shown by the pipelines and stats methods. Both strings are copied;
     * a key given twice keeps its last value. */
    void (*setup_describe)(vd_plugin_setup_t *s, const char *key, const char *value);
    /* Refuses a map with a key outside known (NULL-terminated): returns VD_PLUGIN_OK, or
     * VD_PLUGIN_ERROR with "unknown key 'x' (known: a, b, c)" in err. */
    int (*config_check_keys)(const vd_plugin_config_t *map, const char *const *known, char *err,
                             size_t errlen);
    /* Names a file's content: "model.json@3f2a9c01d2e4" (its base name and 48 bits of a hash of
     * its bytes), so that replies and stats can say which model scored. Any thread. Returns
     * VD_PLUGIN_OK, or VD_PLUGIN_ERROR when the file cannot be read. */
    int (*file_version)(const char *path, char *out, size_t cap);

    /* ---- 1.2: shared state (in score(), on the worker thread; check abi_minor >= 2) ---- */

    /* The state rules use through verdict.counter/distinct/labeled/label, with the same keys:
     * embedded in verdictd, or in Redis when it runs with --redis. A read answers through
     * done(ud, answer), exactly once, on the worker thread: before the function returns when
     * the state is embedded (or Redis is unavailable and the fallback answers), later when
     * Redis answers. So a plugin that reads state returns VD_PLUGIN_PENDING from score() and
     * completes the call from done (done may run inside the read, before score() returned:
     * score() must then still return VD_PLUGIN_PENDING). Each read returns VD_PLUGIN_OK when
     * done will be called, VD_PLUGIN_ERROR when it will not (no state here, out of memory).
     * In a report's run (the report method given an event: docs/protocol.md) every read
     * answers nothing (counts 0, value 0, a label -1) and nothing is written, as for rules. */

    /* Adds n (0 only reads) to the counter key; answer->counts. */
    int (*state_counter)(vd_plugin_call_t *call, const char *key, size_t len, uint32_t n,
                         vd_state_done_t done, void *ud);
    /* Adds value (NULL only reads) to the distinct set key, which expires ttl_s seconds after
     * its last addition; answer->value is about how many distinct values it has seen. */
    int (*state_distinct)(vd_plugin_call_t *call, const char *key, size_t len, const char *value,
                          size_t vlen, int64_t ttl_s, vd_state_done_t done, void *ud);
    /* answer->value: seconds the label key has left, -1 when it is not set. */
    int (*state_labeled)(vd_plugin_call_t *call, const char *key, size_t len, vd_state_done_t done,
                         void *ud);
    /* Sets the label key for ttl_s seconds (0 removes it) without waiting. VD_PLUGIN_OK, or
     * VD_PLUGIN_ERROR when there is no state here. */
    int (*state_label)(vd_plugin_call_t *call, const char *key, size_t len, int64_t ttl_s);

    /* ---- 1.3: campaigns (in score(), on the worker thread; check abi_minor >= 3) ---- */

    /* The campaigns rules see through verdict.campaign, shared with them (same scope, same
     * campaign). Answers come through done(ud, answer), exactly once, on the worker thread,
     * as for the state reads above: before the function returns when campaigns are embedded
     * (or Redis is unavailable and the fallback answers), later when verdictd runs with
     * --redis and Redis answers. So return VD_PLUGIN_PENDING and complete from done. Each
     * returns VD_PLUGIN_OK when done will be called, VD_PLUGIN_ERROR when it will not (no
     * campaign index here, bad options, out of memory). opts may be NULL (the defaults). In a
     * report's run every call only looks (as look_only): the report goes to the campaigns
     * found. An answer that comes after the plugin completed its call is dropped (done is not
     * called): the decision is gone, and after a reload so may be the instance. */

    /* Files len bytes of text (plain or HTML, decoded) into its near-duplicate campaign. */
    int (*campaign_text)(vd_plugin_call_t *call, const char *text, size_t len,
                         const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud);
    /* Files the item into the lockstep group of the n field values (1 to 16 distinct names,
     * in any order). */
    int (*campaign_fields)(vd_plugin_call_t *call, const vd_campaign_field_t *fields, size_t n,
                           const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud);

    /* ---- 1.4: anomaly models and behaviour profiles (in score(); check abi_minor >= 4) ---- */

    /* The models and profiles rules reach through verdict.anomaly and verdict.profile, shared
     * with them (same key, same model). Answers come through done(ud, answer), exactly once,
     * on the worker thread, as for the state reads: today always before the function returns.
     * Each returns VD_PLUGIN_OK when done will be called, VD_PLUGIN_ERROR when it will not (no
     * state here, a bad value or option, out of memory). opts may be NULL (the defaults). In a
     * report's run they answer nothing and change nothing (a model "learning", a profile with
     * no events). */

    /* Scores value (a finite number, at most 1e30 either way) in the series key (1 to 1024
     * bytes), then learns from it. */
    int (*anomaly)(vd_plugin_call_t *call, const char *key, size_t len, double value,
                   const vd_anomaly_options_t *opts, vd_anomaly_done_t done, void *ud);
    /* Says how usual each of the n values (1 to 8 distinct names) is for the entity (1 to 1024
     * bytes), then adds the event unless opts->read_only. */
    int (*profile)(vd_plugin_call_t *call, const char *entity, size_t len,
                   const vd_profile_value_t *values, size_t n, const vd_profile_options_t *opts,
                   vd_profile_done_t done, void *ud);
} vd_host_api_t;

/* The plugin descriptor, returned by verdict_plugin_entry(). Static storage. */
typedef struct vd_plugin {
    uint32_t abi_major; /* VD_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor; /* VD_PLUGIN_ABI_MINOR the plugin was built with */
    uint32_t size;      /* sizeof(vd_plugin_t) */
    uint32_t reserved;
    const char *name;        /* short name, as in the policy: plugin "geoip" { ... } */
    const char *version;     /* the plugin's own version, shown in logs and stats */
    const char *description; /* one line for people */

    /* Once per loaded copy (see "Lifecycle" above). Keep api (valid until fini). *global is
     * passed to create and fini.
     * Return VD_PLUGIN_OK, or VD_PLUGIN_ERROR with a message in err. Required. */
    int (*init)(const vd_host_api_t *api, void **global, char *err, size_t errlen);
    /* Once when the copy is unloaded (at exit, or after a reload replaced it). Optional
     * (NULL). */
    void (*fini)(void *global);
    /* One instance per stage and worker. Return VD_PLUGIN_OK with *instance set, or
     * VD_PLUGIN_ERROR with a message that names the bad key or file in err. Required. */
    int (*create)(void *global, vd_plugin_setup_t *setup, void **instance, char *err,
                  size_t errlen);
    /* Frees an instance. Required. */
    void (*destroy)(void *instance);
    /* Scores one request: OK, PENDING or ERROR (see the lifecycle above). Required. */
    int (*score)(void *instance, vd_plugin_call_t *call);

    void *spare[8]; /* zero: room for later minors */
} vd_plugin_t;

/* The entry point every plugin defines:
 *   VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) { return &my_plugin; } */
typedef const vd_plugin_t *(*vd_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
