/* diemcau-bench-plot: reads several runs' JSON (from diemcau-bench --out) and writes a
 * Markdown table and a small hand-written SVG of loss (max and mean, %) and the server's
 * CPU per forwarded packet (µs) against the number of participants.
 *
 *   diemcau-bench-plot --md out/fanout.md --svg out/fanout.svg out/fanout-*.json */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    json_t *j;
    double n, loss_max, loss_mean, us_pkt, gen_us_pkt, other, pps, p50, p99, max, rss, kib, join50, join99, joinmax;
    const char *scenario, *server, *srtp; /* srtp: negotiated profile */
} row;

static double num(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(j, a), b);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static int by_n(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n;
}

static void svg(FILE *f, const row *r, size_t n, const char *title)
{
    const double W = 640, H = 360, L = 60, R = 60, T = 40, B = 50;
    double xmax = 1, lmax = 1, cmax = 1;
    for (size_t i = 0; i < n; i++) {
        if (r[i].n > xmax) xmax = r[i].n;
        if (r[i].loss_max * 100 > lmax) lmax = r[i].loss_max * 100;
        if (r[i].us_pkt > cmax) cmax = r[i].us_pkt;
    }
    lmax *= 1.1;
    cmax *= 1.2;
    double pw = W - L - R, ph = H - T - B;
#define X(v) (L + (v) / xmax * pw)
#define YL(v) (T + ph - (v) / lmax * ph)
#define YC(v) (T + ph - (v) / cmax * ph)
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n",
            W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n", W / 2, title);
    fprintf(f, "<path d=\"M%.0f %.0f V%.0f H%.0f V%.0f\" fill=\"none\" stroke=\"black\"/>\n", L, T, T + ph, L + pw, T);
    for (int i = 0; i <= 4; i++) {
        double y = T + ph - ph * i / 4;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + pw, y);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#c00\">%.2f</text>\n", L - 5, y + 4,
                lmax * i / 4);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#00c\">%.1f</text>\n", L + pw + 5, y + 4, cmax * i / 4);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.0f</text>\n", X(r[i].n), T + ph + 15, r[i].n);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">participants</text>\n", L + pw / 2, H - 10);
    fprintf(f,
            "<text x=\"15\" y=\"%.0f\" fill=\"#c00\" transform=\"rotate(-90 15 %.0f)\" text-anchor=\"middle\">loss %% "
            "(max ●, mean ○)</text>\n",
            T + ph / 2, T + ph / 2);
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.0f\" fill=\"#00c\" transform=\"rotate(90 %.0f %.0f)\" "
            "text-anchor=\"middle\">server µs per forwarded packet ■</text>\n",
            W - 15, T + ph / 2, W - 15, T + ph / 2);
    if (0.5 <= lmax)
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n",
                L, YL(0.5), L + pw, YL(0.5));
    const char *series[3] = {"#c00", "#c00", "#00c"};
    for (int s = 0; s < 3; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" %s points=\"", series[s],
                s == 1 ? "stroke-dasharray=\"2 2\"" : "");
        for (size_t i = 0; i < n; i++) {
            double y = s == 0 ? YL(r[i].loss_max * 100) : s == 1 ? YL(r[i].loss_mean * 100) : YC(r[i].us_pkt);
            fprintf(f, "%.1f,%.1f ", X(r[i].n), y);
        }
        fprintf(f, "\"/>\n");
        for (size_t i = 0; i < n; i++) {
            double x = X(r[i].n);
            if (s == 0)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c00\"/>\n", x, YL(r[i].loss_max * 100));
            else if (s == 1)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"white\" stroke=\"#c00\"/>\n", x,
                        YL(r[i].loss_mean * 100));
            else
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\" fill=\"#00c\"/>\n", x - 3,
                        YC(r[i].us_pkt) - 3);
        }
    }
    fprintf(f, "</svg>\n");
}

int main(int argc, char **argv)
{
    const char *md = NULL, *svg_path = NULL, *title = "diemcau-bench";
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && first + 1 < argc; first += 2) {
        if (strcmp(argv[first], "--md") == 0) md = argv[first + 1];
        else if (strcmp(argv[first], "--svg") == 0) svg_path = argv[first + 1];
        else if (strcmp(argv[first], "--title") == 0) title = argv[first + 1];
        else break;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: diemcau-bench-plot [--md FILE] [--svg FILE] [--title T] RUN.json…\n");
        return 1;
    }
    size_t n = 0;
    row *r = calloc((size_t)(argc - first), sizeof *r);
    for (int i = first; i < argc; i++) {
        json_error_t err;
        json_t *j = json_load_file(argv[i], 0, &err);
        if (!j) {
            fprintf(stderr, "plot: %s: %s\n", argv[i], err.text);
            continue;
        }
        row *x = &r[n++];
        x->j = j;
        x->scenario = json_string_value(json_object_get(j, "scenario"));
        x->server = json_string_value(json_object_get(j, "target"));
        x->srtp = json_string_value(json_object_get(j, "srtp_profile"));
        x->n = num(j, "config", "participants");
        x->loss_max = num(j, "loss", "max");
        x->loss_mean = num(j, "loss", "mean");
        x->us_pkt = num(j, "server", "us_per_forwarded_packet");
        x->gen_us_pkt = num(j, "generator", "us_per_packet");
        x->other = num(j, "host", "other_cpus");
        x->pps = num(j, "forwarding", "packets_per_s");
        x->p50 = num(j, "latency_us", "p50");
        x->p99 = num(j, "latency_us", "p99");
        x->max = num(j, "latency_us", "max");
        x->rss = num(j, "server", "rss_kib");
        x->kib = num(j, "server", "kib_per_participant");
        x->join50 = num(j, "join_ms", "p50");
        x->join99 = num(j, "join_ms", "p99");
        x->joinmax = num(j, "join_ms", "max");
    }
    qsort(r, n, sizeof *r, by_n);
    FILE *f = md ? fopen(md, "w") : stdout;
    if (!f) return 1;
    fprintf(f, "| scenario | server | participants | pkt/s forwarded | loss max %% | loss mean %% | "
               "latency p50 / p99 / max µs | server µs/pkt | server RSS MiB | KiB/participant | "
               "join p50 / p99 / max ms | generator µs/pkt | other load (CPUs) | SRTP |\n"
               "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---|\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "| %s | %s | %.0f | %.0f | %.3f | %.3f | %.0f / %.0f / %.0f | %.2f | %.1f | %.1f | %.0f / %.0f / %.0f "
                "| %.2f | %.2f | %s |\n",
                r[i].scenario ? r[i].scenario : "?", r[i].server ? r[i].server : "?", r[i].n, r[i].pps,
                r[i].loss_max * 100, r[i].loss_mean * 100, r[i].p50, r[i].p99, r[i].max, r[i].us_pkt, r[i].rss / 1024,
                r[i].kib, r[i].join50, r[i].join99, r[i].joinmax, r[i].gen_us_pkt, r[i].other,
                r[i].srtp ? r[i].srtp : "?");
    if (md) fclose(f);
    if (svg_path && n) {
        FILE *s = fopen(svg_path, "w");
        if (!s) return 1;
        svg(s, r, n, title);
        fclose(s);
    }
    for (size_t i = 0; i < n; i++) json_decref(r[i].j);
    free(r);
    return 0;
}
