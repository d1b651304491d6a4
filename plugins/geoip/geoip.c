/* geoip: enriches events with the country and the autonomous system (number and
 * organisation) of their IP address, from MMDB files read with libmaxminddb.
 *
 *   plugin "geoip" {
 *     country_db = "../data/geoip/country.mmdb",  -- country_code, or MaxMind country.iso_code
 *     asn_db     = "../data/geoip/asn.mmdb",      -- autonomous_system_number/_organization
 *     field      = "ip",                          -- the event field holding the address
 *     prefix     = "geo_",                        -- features geo_country, geo_asn, geo_asn_org
 *     country_scores = { KP = 6, RU = 1 },        -- optional: score per country code
 *   }
 *
 * The databases are opened from private in-memory copies that the instances of every worker
 * share (db_copy.h), so that a file overwritten in place cannot crash the daemon; a lookup is
 * a tree walk in that copy. */
#include "db_copy.h"

#include <verdict/plugin.h>

#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const vd_host_api_t *api;

typedef struct country_score {
    char code[3];
    double score;
} country_score_t;

/* The longest string a lookup puts in a feature: a database entry cannot make requests large. */
#define MAX_VALUE_BYTES 256

typedef struct geoip {
    geo_dbs_t *dbs;          /* the plugin's open databases (its global) */
    geo_db_t *country, *asn; /* NULL when not configured */
    vd_plugin_field_t field;
    vd_plugin_feature_t f_country, f_asn, f_org;
    country_score_t *scores;
    size_t nscores;
} geoip_t;

static int geoip_init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    api = host;
    geo_dbs_t *dbs = calloc(1, sizeof *dbs);
    if (!dbs) return snprintf(err, errlen, "out of memory"), VD_PLUGIN_ERROR;
    geo_dbs_init(dbs);
    *global = dbs;
    return VD_PLUGIN_OK;
}

static void geoip_fini(void *global) {
    geo_dbs_close(global);
    free(global);
}

/* Opens the database named by key, if configured; a missing or unreadable file is an error
 * that names the key and the path. */
static int open_db(vd_plugin_setup_t *s, geo_dbs_t *dbs, const char *key, geo_db_t **out, char *err,
                   size_t errlen) {
    const vd_plugin_config_t *cfg = api->setup_config(s);
    const vd_plugin_config_t *node = api->config_get(cfg, key);
    if (!node) return VD_PLUGIN_OK;
    const char *rel = api->config_string(node);
    char path[4096];
    if (!rel || api->setup_path(s, rel, path, sizeof path) != VD_PLUGIN_OK) {
        snprintf(err, errlen, "'%s' must be the path of an MMDB file", key);
        return VD_PLUGIN_ERROR;
    }
    int rc = geo_db_open(dbs, path, out);
    if (rc != MMDB_SUCCESS) {
        snprintf(err, errlen, "%s: cannot open %s: %s%s", key, path, MMDB_strerror(rc),
                 rc == MMDB_FILE_OPEN_ERROR ? " (run 'make data' to fetch the databases)" : "");
        return VD_PLUGIN_ERROR;
    }
    const MMDB_s *db = &(*out)->mmdb;
    if (!(*out)->private_copy) {
        char warn[4200];
        snprintf(warn, sizeof warn,
                 "%.4000s: no private copy could be made (memfd, /proc): "
                 "opened in place, so replace it by renaming, never by "
                 "copying over it",
                 path);
        api->log(VD_PLUGIN_LOG_WARN, "geoip", warn);
    }
    if (api->abi_minor >= 1) { /* host 1.1: say which database this stage reads, of when */
        char what[4200];
        time_t built = (time_t)db->metadata.build_epoch;
        struct tm tm;
        gmtime_r(&built, &tm);
        snprintf(what, sizeof what, "%.4000s (%.60s, built %04d-%02d-%02d)", path,
                 db->metadata.database_type, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        api->setup_describe(s, key, what);
    }
    return VD_PLUGIN_OK;
}

static int read_scores(const vd_plugin_config_t *map, geoip_t *g, char *err, size_t errlen) {
    if (!map) return VD_PLUGIN_OK;
    size_t n = api->config_len(map);
    if (api->config_type(map) != VD_PLUGIN_MAP ||
        !(g->scores = calloc(n ? n : 1, sizeof *g->scores)))
        return snprintf(err, errlen, "'country_scores' must map country codes to scores"),
               VD_PLUGIN_ERROR;
    for (size_t i = 0; i < n; i++) {
        const char *code = api->config_key_at(map, i);
        double score;
        if (strlen(code) != 2 || api->config_number(api->config_at(map, i), &score) != 0)
            return snprintf(err, errlen,
                            "country_scores.%s: expected a two-letter code and a "
                            "number",
                            code),
                   VD_PLUGIN_ERROR;
        memcpy(g->scores[g->nscores].code, code, 3);
        g->scores[g->nscores++].score = score;
    }
    return VD_PLUGIN_OK;
}

static void geoip_destroy(void *instance) {
    geoip_t *g = instance;
    geo_db_release(g->dbs, g->country);
    geo_db_release(g->dbs, g->asn);
    free(g->scores);
    free(g);
}

static int check_keys(const vd_plugin_config_t *cfg, char *err, size_t errlen) {
    static const char *const known[] = {"country_db", "asn_db",         "field",
                                        "prefix",     "country_scores", NULL};
    return api->abi_minor >= 1 ? api->config_check_keys(cfg, known, err, errlen) : VD_PLUGIN_OK;
}

static int geoip_create(void *global, vd_plugin_setup_t *s, void **instance, char *err,
                        size_t errlen) {
    const vd_plugin_config_t *cfg = api->setup_config(s);
    if (check_keys(cfg, err, errlen) != VD_PLUGIN_OK) return VD_PLUGIN_ERROR;
    geoip_t *g = calloc(1, sizeof *g);
    if (!g) return VD_PLUGIN_ERROR;
    g->dbs = global;
    int rc = open_db(s, g->dbs, "country_db", &g->country, err, errlen);
    if (rc == VD_PLUGIN_OK) rc = open_db(s, g->dbs, "asn_db", &g->asn, err, errlen);
    if (rc == VD_PLUGIN_OK && !g->country && !g->asn) {
        snprintf(err, errlen, "give country_db, asn_db or both");
        rc = VD_PLUGIN_ERROR;
    }
    if (rc == VD_PLUGIN_OK)
        rc = read_scores(api->config_get(cfg, "country_scores"), g, err, errlen);
    if (rc != VD_PLUGIN_OK) {
        geoip_destroy(g);
        return VD_PLUGIN_ERROR;
    }
    const char *field = api->config_string(api->config_get(cfg, "field"));
    const char *prefix = api->config_string(api->config_get(cfg, "prefix"));
    if (!prefix) prefix = "geo_";
    char name[128];
    g->field = api->setup_field(s, field ? field : "ip");
    snprintf(name, sizeof name, "%scountry", prefix);
    g->f_country = api->setup_feature(s, name);
    snprintf(name, sizeof name, "%sasn", prefix);
    g->f_asn = api->setup_feature(s, name);
    snprintf(name, sizeof name, "%sasn_org", prefix);
    g->f_org = api->setup_feature(s, name);
    *instance = g;
    return VD_PLUGIN_OK;
}

/* Parses the address without getaddrinfo (which MMDB_lookup_string would call). */
static int to_sockaddr(const char *ip, size_t len, struct sockaddr_storage *ss) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, ip, len);
    buf[len] = '\0';
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

static void emit_string(vd_plugin_call_t *call, MMDB_entry_s *e, vd_plugin_feature_t f,
                        const char *const *path, char *out, size_t cap) {
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING) {
        /* libmaxminddb checked that the string lies inside the file; its length is the
         * file's to say, so it is capped here. */
        int n = d.data_size > MAX_VALUE_BYTES ? MAX_VALUE_BYTES : (int)d.data_size;
        api->set_feature_string(call, f, d.utf8_string, (size_t)n);
        if (out) snprintf(out, cap, "%.*s", n, d.utf8_string);
    }
}

static void lookup_country(geoip_t *g, vd_plugin_call_t *call, const struct sockaddr *sa) {
    int mmdb_err;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->country->mmdb, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS || !r.found_entry) return;
    static const char *const flat[] = {"country_code", NULL};          /* ip-location-db */
    static const char *const nested[] = {"country", "iso_code", NULL}; /* MaxMind */
    char code[8] = "";
    emit_string(call, &r.entry, g->f_country, flat, code, sizeof code);
    if (!*code) emit_string(call, &r.entry, g->f_country, nested, code, sizeof code);
    for (size_t i = 0; *code && i < g->nscores; i++)
        if (strcmp(g->scores[i].code, code) == 0)
            api->add_score(call, g->scores[i].score, "ip_country", code);
}

static void lookup_asn(geoip_t *g, vd_plugin_call_t *call, const struct sockaddr *sa) {
    int mmdb_err;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->asn->mmdb, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS || !r.found_entry) return;
    static const char *const number[] = {"autonomous_system_number", NULL};
    static const char *const org[] = {"autonomous_system_organization", NULL};
    MMDB_entry_data_s d;
    if (MMDB_aget_value(&r.entry, &d, number) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UINT32)
        api->set_feature_int(call, g->f_asn, d.uint32);
    emit_string(call, &r.entry, g->f_org, org, NULL, 0);
}

static int geoip_score(void *instance, vd_plugin_call_t *call) {
    geoip_t *g = instance;
    const char *ip;
    size_t len;
    struct sockaddr_storage ss;
    if (api->field_string(call, g->field, &ip, &len) != VD_PLUGIN_OK) return VD_PLUGIN_OK;
    if (to_sockaddr(ip, len, &ss) != 0) return VD_PLUGIN_OK; /* not an address: nothing to add */
    if (g->country) lookup_country(g, call, (const struct sockaddr *)&ss);
    if (g->asn) lookup_asn(g, call, (const struct sockaddr *)&ss);
    return VD_PLUGIN_OK;
}

static const vd_plugin_t geoip = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "geoip",
    .version = "1.0.0",
    .description = "country and ASN of the event's IP address, from MMDB files",
    .init = geoip_init,
    .fini = geoip_fini,
    .create = geoip_create,
    .destroy = geoip_destroy,
    .score = geoip_score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &geoip;
}
