/* Runs a libFuzzer target over the files given on the command line (or the files in the
 * directories given), so the seed corpus is a regression test in every build, even without
 * clang's libFuzzer. Each input must also finish within a bound of CPU time (VD_REPLAY_MAX_MS,
 * default 2000 ms: generous under ASan, and CPU time is not inflated by a busy CI machine), so
 * that a parser gone quadratic fails `make test`, not only `make fuzz`. Each file is named
 * before it runs, so that a crash report comes right after the name of its input. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEFAULT_MAX_MS 2000.0

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double max_ms(void) {
    const char *s = getenv("VD_REPLAY_MAX_MS");
    char *end;
    double v = s ? strtod(s, &end) : 0;
    return s && end != s && *end == '\0' && v > 0 ? v : DEFAULT_MAX_MS;
}

/* Replays one file: 0 when it ran within the bound, 1 when it could not be read or was slow. */
static int replay_file(const char *path, double bound_ms) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "cannot read %s\n", path), 1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf) return fprintf(stderr, "out of memory reading %s\n", path), 1;
    printf("%s\n", path);
    fflush(stdout);
    double start = cpu_ms();
    LLVMFuzzerTestOneInput(buf, got);
    double took = cpu_ms() - start;
    free(buf);
    if (took <= bound_ms) return 0;
    fprintf(stderr, "slow input: %s took %.0f ms of CPU (bound %.0f ms)\n", path, took, bound_ms);
    return 1;
}

int main(int argc, char **argv) {
    int files = 0, failed = 0;
    double bound_ms = max_ms();
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) return fprintf(stderr, "cannot read %s\n", argv[i]), 1;
        if (!S_ISDIR(st.st_mode)) {
            failed += replay_file(argv[i], bound_ms);
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            failed += replay_file(path, bound_ms);
            files++;
        }
        if (d) closedir(d);
    }
    printf("%d passed, %d failed\n", files - failed, failed);
    return failed ? 1 : 0;
}
