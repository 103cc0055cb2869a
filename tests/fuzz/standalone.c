/* Runs a fuzz target without libFuzzer: every seed in the corpus directory as is, then
 * seeded random mutations of the seeds (bit flips, truncation, splices, random bytes).
 * Deterministic for a given FUZZ_SEED, so a failure reproduces. FUZZ_ITERATIONS sets the
 * count (default 200000). A crash or sanitizer report fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_SEEDS 256
#define FUZZ_MAX_INPUT 65536

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Runs the target on an exact-size heap copy, so that ASan catches reads past the end. */
static void run_exact_copy(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

int main(int argc, char **argv)
{
    static uint8_t *seeds[FUZZ_MAX_SEEDS];
    static size_t seed_len[FUZZ_MAX_SEEDS];
    size_t n_seeds = 0;
    const char *it_env = getenv("FUZZ_ITERATIONS"), *seed_env = getenv("FUZZ_SEED");
    long iterations = it_env ? atol(it_env) : 200000;
    rng_state = seed_env ? strtoull(seed_env, NULL, 10) : 0x9e3779b97f4a7c15ull;
    if (rng_state == 0) rng_state = 1;

    /* Every file is run; the first FUZZ_MAX_SEEDS are also kept as seeds for mutation. */
    DIR *dir = argc > 1 ? opendir(argv[1]) : NULL;
    size_t n_files = 0;
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = malloc(FUZZ_MAX_INPUT);
        size_t n = fread(buf, 1, FUZZ_MAX_INPUT, f);
        fclose(f);
        run_exact_copy(buf, n);
        n_files++;
        if (n_seeds == FUZZ_MAX_SEEDS) {
            free(buf);
            continue;
        }
        seeds[n_seeds] = buf;
        seed_len[n_seeds++] = n;
    }
    if (dir) closedir(dir);

    static uint8_t input[FUZZ_MAX_INPUT];
    for (long i = 0; i < iterations; i++) {
        size_t len;
        if (n_seeds == 0 || rng() % 8 == 0) { /* pure random */
            len = rng() % 1500;
            for (size_t j = 0; j < len; j++) input[j] = (uint8_t)rng();
        } else {
            size_t s = rng() % n_seeds;
            len = seed_len[s];
            memcpy(input, seeds[s], len);
            int edits = 1 + (int)(rng() % 8);
            for (int k = 0; k < edits && len > 0; k++) {
                switch (rng() % 4) {
                case 0: input[rng() % len] ^= (uint8_t)(1u << (rng() % 8)); break;
                case 1: input[rng() % len] = (uint8_t)rng(); break;
                case 2: len = rng() % (len + 1); break; /* truncate */
                case 3: {                               /* splice a piece of another seed */
                    size_t o = rng() % n_seeds, at = rng() % len;
                    size_t n = seed_len[o] ? rng() % seed_len[o] : 0;
                    if (at + n > FUZZ_MAX_INPUT) n = FUZZ_MAX_INPUT - at;
                    memcpy(input + at, seeds[o], n);
                    if (at + n > len) len = at + n;
                    break;
                }
                }
            }
        }
        run_exact_copy(input, len);
    }
    for (size_t s = 0; s < n_seeds; s++) free(seeds[s]);
    printf("%zu files and %ld generated inputs, no crash\n", n_files, iterations);
    return 0;
}
