/* verdict-list-bench: list files of 1,000,000 entries. Writes a blocklist-like IPv4 file (three
 * quarters single addresses, the rest /16../28 networks) and a domain file, then reports each
 * one's load time, memory, and the median cost of a lookup (half hits, half misses, addresses
 * spread over the whole table so most lookups miss the CPU caches). */
#include "state/list.h"

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ENTRIES = 1000000; /* VD_LIST_BENCH_ENTRIES overrides */
#define OPS 200000

static unsigned rnd(unsigned *x) {
    *x = *x * 1103515245u + 12345u;
    return *x >> 1;
}

static size_t rss_kb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static void write_ip_file(const char *path, unsigned *addrs) {
    FILE *f = fopen(path, "w");
    unsigned x = 1;
    for (int i = 0; i < ENTRIES; i++) {
        unsigned a = rnd(&x) * 2654435761u, bits = i % 4 ? 32 : 16 + rnd(&x) % 13;
        addrs[i] = a;
        fprintf(f, "%u.%u.%u.%u/%u feed-%d\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
                bits, i % 7);
    }
    fclose(f);
}

static void write_domain_file(const char *path) {
    FILE *f = fopen(path, "w");
    for (int i = 0; i < ENTRIES; i++)
        fprintf(f, "d%07x%d.example%d.test\n", (unsigned)i * 2654435761u >> 4, i, i % 97);
    fclose(f);
}

static vd_list_ref_t load(const char *path, vd_list_kind_t kind, const char *what) {
    vd_list_ref_t ref;
    char err[512];
    size_t before = rss_kb();
    double t0 = now_ns();
    if (vd_list_open(path, kind, 0, &ref, err, sizeof err) != 0) {
        fprintf(stderr, "list-bench: %s\n", err);
        exit(1);
    }
    double secs = (now_ns() - t0) / 1e9;
    printf("lists: %s, %zu entries: loaded in %.2f s, %.1f MB resident (file text included)\n",
           what, vd_list_size(&ref), secs, (double)(rss_kb() - before) / 1024);
    return ref;
}

int main(void) {
    const char *entries = getenv("VD_LIST_BENCH_ENTRIES");
    if (entries && atoi(entries) > 0) ENTRIES = atoi(entries);
    char ip_path[] = "/tmp/vd-list-bench-ip-XXXXXX", dom_path[] = "/tmp/vd-list-bench-dom-XXXXXX";
    close(mkstemp(ip_path));
    close(mkstemp(dom_path));
    unsigned *addrs = malloc((size_t)ENTRIES * sizeof *addrs);
    write_ip_file(ip_path, addrs);
    write_domain_file(dom_path);

    vd_list_ref_t ips = load(ip_path, VD_LIST_IP, "IPv4 set");
    double t[BATCHES];
    unsigned x = 99, hits = 0;
    vd_ip_t ip = {.v4 = 1};
    memset(ip.b + 10, 0xff, 2);
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS; i++) {
            unsigned a = i & 1 ? addrs[rnd(&x) % ENTRIES] : rnd(&x) * 2654435761u;
            ip.b[12] = (uint8_t)(a >> 24), ip.b[13] = (uint8_t)(a >> 16);
            ip.b[14] = (uint8_t)(a >> 8), ip.b[15] = (uint8_t)a;
            hits += (unsigned)vd_list_find_ip(&ips, &ip, NULL);
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    sort_batches(t);
    printf("lists: IPv4 set of %d entries, longest-prefix lookup: median %.0f ns (min %.0f), "
           "%.0f%% hits\n",
           ENTRIES, t[BATCHES / 2], t[0], 100.0 * hits / ((double)OPS * BATCHES));

    vd_list_ref_t doms = load(dom_path, VD_LIST_DOMAIN, "domain set");
    hits = 0;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS; i++) {
            unsigned k = rnd(&x) % ENTRIES;
            char q[96];
            int n = snprintf(q, sizeof q, "mail.d%07x%d.example%d.test", k * 2654435761u >> 4,
                             i & 1 ? (int)k : -1, k % 97);
            hits += (unsigned)vd_list_find(&doms, q, (size_t)n, NULL);
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    sort_batches(t);
    printf("lists: domain set of %d entries, subdomain lookup (query formatting included): "
           "median %.0f ns (min %.0f), %.0f%% hits\n",
           ENTRIES, t[BATCHES / 2], t[0], 100.0 * hits / ((double)OPS * BATCHES));
    vd_list_ref_close(&ips);
    vd_list_ref_close(&doms);
    unlink(ip_path);
    unlink(dom_path);
    free(addrs);
    return 0;
}
