/* srtp_bench.c — cost of libsrtp2 srtp_protect / srtp_unprotect per RTP packet, and heap
 * calls per packet, for each profile the SFU negotiates. Used to choose between Debian's
 * libsrtp2 (NSS crypto) and the same release rebuilt on OpenSSL
 * (scripts/build-libsrtp2-openssl.sh). Results: bench/RESULTS.md, "SRTP library".
 *
 * Build against Debian's libsrtp2:
 *   cc -O2 -o /tmp/srtp_bench_nss bench/srtp_bench.c $(pkg-config --cflags --libs libsrtp2) -ldl
 * against the OpenSSL rebuild (static libsrtp2.a, libcrypto from Debian):
 *   PKG_CONFIG_PATH=/opt/diemcau/libsrtp2/lib/pkgconfig \
 *     cc -O2 -o /tmp/srtp_bench_ossl bench/srtp_bench.c $(PKG_CONFIG_PATH=/opt/diemcau/libsrtp2/lib/pkgconfig pkg-config --static --cflags --libs libsrtp2) -ldl
 * With -DWITH_SFU_GCM_SENDER -Isfu and sfu/srtp/gcm_sender.c on the command line, a third
 * row protects with the server's own AEAD_AES_128_GCM sender (unprotect stays libsrtp's,
 * which so checks every packet):
 *   cc -O2 -DWITH_SFU_GCM_SENDER -Isfu -o /tmp/srtp_bench_ossl bench/srtp_bench.c sfu/srtp/gcm_sender.c \
 *     $(PKG_CONFIG_PATH=/opt/diemcau/libsrtp2/lib/pkgconfig pkg-config --static --cflags --libs libsrtp2) -ldl
 * Run (timings), then again under the counting shim (allocations per packet):
 *   /tmp/srtp_bench_nss -c 1
 *   cc -O2 -shared -fPIC -o /tmp/malloc_count.so bench/malloc_count.c
 *   LD_PRELOAD=/tmp/malloc_count.so /tmp/srtp_bench_nss -c 1
 *
 * Method: sessions as in sfu/srtp/srtp_session.c (ssrc_any_outbound sender, ssrc_any_inbound
 * receiver, replay window 1024). Packets go in batches of B (default 256, ~310 KiB, so the
 * working set is L2-sized, like a worker's receive batch): the batch is filled from a
 * template (not timed), protected (timed), then unprotected (timed). One run = N packets;
 * the figure is the median over R runs of (run time / N), with min and max beside it.
 * Allocations are counted over a separate pass after warm-up (the first packet of an SSRC
 * clones the ssrc_any template stream: that one-off allocation is not per packet).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>
#ifdef WITH_SFU_GCM_SENDER
#include "srtp/gcm_sender.h"
#endif

#define MAX_TRAILER 148 /* SRTP_MAX_TRAILER_LEN */
/* srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 is a macro for the rtp default */

typedef void (*count_fn)(uint64_t *, uint64_t *);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, srtp_err_status_t st)
{
    fprintf(stderr, "srtp_bench: %s failed: %d\n", what, (int)st);
    exit(1);
}

typedef struct {
    const char *name;
    int key_len; /* master key + salt */
    void (*set)(srtp_crypto_policy_t *);
    int sfu_sender; /* protect with sfu/srtp/gcm_sender.c instead of srtp_protect */
} profile_t;

static const profile_t profiles[] = {
    {"AES_CM_128_HMAC_SHA1_80", 30, srtp_crypto_policy_set_rtp_default, 0},
    {"AEAD_AES_128_GCM", 28, srtp_crypto_policy_set_aes_gcm_128_16_auth, 0},
#ifdef WITH_SFU_GCM_SENDER
    {"AEAD_AES_128_GCM, sfu gcm_sender", 28, srtp_crypto_policy_set_aes_gcm_128_16_auth, 1},
#endif
};

/* the sender of the current profile: libsrtp's session, or ours when sfu_gcm is set */
typedef struct {
    srtp_t tx;
    void *sfu_gcm;
    uint64_t index;
} sender_t;

static srtp_err_status_t protect_one(sender_t *s, unsigned char *pkt, int *len, size_t cap)
{
#ifdef WITH_SFU_GCM_SENDER
    if (s->sfu_gcm) {
        size_t l = (size_t)*len;
        if (!sfu_gcm_sender_protect(s->sfu_gcm, &s->index, pkt, &l, cap)) return srtp_err_status_fail;
        *len = (int)l;
        return srtp_err_status_ok;
    }
#else
    (void)cap;
#endif
    return srtp_protect(s->tx, pkt, len);
}

static void make_session(srtp_t *s, const profile_t *p, srtp_ssrc_type_t dir, unsigned char *key)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    p->set(&pol.rtp);
    p->set(&pol.rtcp);
    pol.ssrc.type = dir;
    pol.key = key;
    pol.window_size = 1024;
    pol.allow_repeat_tx = 0;
    pol.next = NULL;
    srtp_err_status_t st = srtp_create(s, &pol);
    if (st) die("srtp_create", st);
}

typedef struct {
    int size, batch;
    size_t stride;
    unsigned char *buf; /* batch * stride */
    int *len;
    uint16_t seq;
    uint32_t ts;
} pktbuf_t;

static void fill_batch(pktbuf_t *b)
{
    for (int i = 0; i < b->batch; i++) {
        unsigned char *p = b->buf + (size_t)i * b->stride;
        p[0] = 0x80;
        p[1] = 96;
        p[2] = b->seq >> 8;
        p[3] = b->seq & 0xff;
        p[4] = b->ts >> 24;
        p[5] = b->ts >> 16;
        p[6] = b->ts >> 8;
        p[7] = b->ts;
        p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78; /* SSRC */
        memset(p + 12, (int)(b->seq & 0xff), (size_t)b->size - 12);
        b->len[i] = b->size;
        b->seq++;
        b->ts += 90;
    }
}

/* protect + unprotect one batch; adds elapsed ns to *tp and *tu (when non-NULL) */
static void run_batch(pktbuf_t *b, sender_t *tx, srtp_t rx, double *tp, double *tu)
{
    fill_batch(b);
    double t0 = now_ns();
    for (int i = 0; i < b->batch; i++) {
        srtp_err_status_t st = protect_one(tx, b->buf + (size_t)i * b->stride, &b->len[i], b->stride);
        if (st) die("srtp_protect", st);
    }
    double t1 = now_ns();
    for (int i = 0; i < b->batch; i++) {
        srtp_err_status_t st = srtp_unprotect(rx, b->buf + (size_t)i * b->stride, &b->len[i]);
        if (st) die("srtp_unprotect", st);
        if (b->len[i] != b->size) {
            fprintf(stderr, "srtp_bench: length mismatch\n");
            exit(1);
        }
    }
    double t2 = now_ns();
    if (tp) *tp += t1 - t0;
    if (tu) *tu += t2 - t1;
}

static int print_crypto_lib(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *n = info->dlpi_name;
    if (n && (strstr(n, "libnss3") || strstr(n, "libfreebl") || strstr(n, "libsoftokn") || strstr(n, "libcrypto") ||
              strstr(n, "libsrtp2")))
        fprintf((FILE *)data, " %s", n);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: srtp_bench [-n packets_per_run] [-r runs] [-b batch] [-s packet_bytes] "
                    "[-c cpu] [-p cm|gcm]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int n = 20000, runs = 9, batch = 256, size = 1200, cpu = -1;
    const char *only = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:b:s:c:p:h")) != -1) {
        switch (opt) {
        case 'n': n = atoi(optarg); break;
        case 'r': runs = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'c': cpu = atoi(optarg); break;
        case 'p': only = optarg; break;
        default: usage();
        }
    }
    if (n < 1 || runs < 1 || batch < 1 || size < 13 || size > 1500) usage();
    n = (n + batch - 1) / batch * batch;

    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set)) perror("sched_setaffinity");
    }

    count_fn count = (count_fn)dlsym(RTLD_DEFAULT, "malloc_count_get");

    srtp_err_status_t st = srtp_init();
    if (st) die("srtp_init", st);

    printf("# %s; crypto libs loaded:", srtp_get_version_string());
    dl_iterate_phdr(print_crypto_lib, stdout);
    printf("\n# packet %d bytes, %d packets per run, %d runs, batch %d, cpu %d, allocation count: %s\n", size, n, runs,
           batch, cpu, count ? "on (malloc_count shim)" : "off (no LD_PRELOAD shim)");
    printf("| profile | op | median ns/op | min | max | allocs/op | frees/op |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");

    pktbuf_t b = {.size = size, .batch = batch, .stride = (size_t)size + MAX_TRAILER + 16, .seq = 1000, .ts = 12345};
    b.stride = (b.stride + 63) & ~(size_t)63;
    b.buf = aligned_alloc(64, b.stride * (size_t)batch);
    b.len = calloc((size_t)batch, sizeof *b.len);
    double *tp = calloc((size_t)runs, sizeof *tp), *tu = calloc((size_t)runs, sizeof *tu);
    if (!b.buf || !b.len || !tp || !tu) return 1;

    for (size_t pi = 0; pi < sizeof profiles / sizeof profiles[0]; pi++) {
        const profile_t *p = &profiles[pi];
        if (only && !strstr(p->name, strcmp(only, "gcm") == 0 ? "GCM" : "CM_128_HMAC")) continue;
        unsigned char key[64];
        for (int i = 0; i < p->key_len; i++) key[i] = (unsigned char)(i * 7 + 3);
        srtp_t rx;
        sender_t tx = {0};
        make_session(&tx.tx, p, ssrc_any_outbound, key);
        make_session(&rx, p, ssrc_any_inbound, key);
#ifdef WITH_SFU_GCM_SENDER
        if (p->sfu_sender && !(tx.sfu_gcm = sfu_gcm_sender_new(key))) die("sfu_gcm_sender_new", srtp_err_status_fail);
#endif

        for (int w = 0; w < 8; w++) run_batch(&b, &tx, rx, NULL, NULL); /* warm-up */

        double ap = -1, fp = -1, au = -1, fu = -1;
        if (count) {
            uint64_t a0, f0, a1, f1, a2, f2;
            int m = 8 * batch;
            unsigned char *pk = b.buf; /* one packet, many times: same path, exact counts */
            double prot_a = 0, prot_f = 0, unp_a = 0, unp_f = 0;
            for (int i = 0; i < m; i++) {
                fill_batch(&(pktbuf_t){
                    .size = size, .batch = 1, .stride = b.stride, .buf = pk, .len = b.len, .seq = b.seq, .ts = b.ts});
                b.seq++;
                b.ts += 90;
                int len = size;
                count(&a0, &f0);
                st = protect_one(&tx, pk, &len, b.stride);
                count(&a1, &f1);
                if (st) die("srtp_protect", st);
                st = srtp_unprotect(rx, pk, &len);
                count(&a2, &f2);
                if (st) die("srtp_unprotect", st);
                prot_a += (double)(a1 - a0), prot_f += (double)(f1 - f0);
                unp_a += (double)(a2 - a1), unp_f += (double)(f2 - f1);
            }
            ap = prot_a / m, fp = prot_f / m, au = unp_a / m, fu = unp_f / m;
        }

        for (int r = 0; r < runs; r++) {
            tp[r] = tu[r] = 0;
            for (int k = 0; k < n / batch; k++) run_batch(&b, &tx, rx, &tp[r], &tu[r]);
            tp[r] /= n;
            tu[r] /= n;
        }
        qsort(tp, (size_t)runs, sizeof *tp, cmp_double);
        qsort(tu, (size_t)runs, sizeof *tu, cmp_double);
        for (int op = 0; op < 2; op++) {
            double *t = op ? tu : tp;
            double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
            char a[32] = "n/a", f[32] = "n/a";
            if (count) {
                snprintf(a, sizeof a, "%.2f", op ? au : ap);
                snprintf(f, sizeof f, "%.2f", op ? fu : fp);
            }
            printf("| %s | %s | %.0f | %.0f | %.0f | %s | %s |\n", p->name, op ? "unprotect" : "protect", med, t[0],
                   t[runs - 1], a, f);
        }
        srtp_dealloc(tx.tx);
        srtp_dealloc(rx);
#ifdef WITH_SFU_GCM_SENDER
        sfu_gcm_sender_free(tx.sfu_gcm);
#endif
    }
    free(b.buf);
    free(b.len);
    free(tp);
    free(tu);
    srtp_shutdown();
    return 0;
}
