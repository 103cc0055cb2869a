/* Configuration: one table describes every key once (JSON name, command-line flag, type,
 * range), so the file loader, the option parser and --help cannot drift apart. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DC_SOURCE_ROOT
#define DC_SOURCE_ROOT "."
#endif

/* KEY_PATH: text; a relative path in a config file is relative to the program's folder
 * (program_root), on the command line to the current directory. */
typedef enum { KEY_INT, KEY_TEXT, KEY_PATH } key_type;

typedef struct {
    const char *json_name;
    const char *flag; /* NULL: file only */
    key_type type;
    size_t offset;
    size_t size;   /* KEY_TEXT: buffer size */
    long min, max; /* KEY_INT */
    const char *help;
} config_key;

#define INT_KEY(name, flag, field, lo, hi, help) \
    { \
        name, flag, KEY_INT, offsetof(dc_config, field), 0, lo, hi, help \
    }
#define TEXT_KEY(name, flag, field, help) \
    { \
        name, flag, KEY_TEXT, offsetof(dc_config, field), sizeof(((dc_config *)0)->field), 0, 0, help \
    }
#define PATH_KEY(name, flag, field, help) \
    { \
        name, flag, KEY_PATH, offsetof(dc_config, field), sizeof(((dc_config *)0)->field), 0, 0, help \
    }

static const config_key keys[] = {
    INT_KEY("http_port", "--http-port", http_port, 0, 65535, "HTTP/WebSocket port (0 = any free port)"),
    TEXT_KEY("bind", "--bind", bind_ip, "HTTP/WebSocket listen address"),
    INT_KEY("media_port", "--media-port", media_port, 0, 65535, "first UDP media port (0 = any free port)"),
    TEXT_KEY("media_bind", "--media-bind", media_bind_ip, "UDP media bind address"),
    TEXT_KEY("announce_ip", "--announce-ip", announce_ip, "address announced in ICE candidates"),
    PATH_KEY("web_root", "--web-root", web_root, "directory served at /"),
    INT_KEY("workers", "--workers", workers, 0, 256, "media worker threads, one UDP port each (0 = one per CPU core)"),
    PATH_KEY("tls_cert", "--tls-cert", tls_cert, "PEM certificate: serve HTTPS/WSS"),
    PATH_KEY("tls_key", "--tls-key", tls_key, "PEM private key for tls_cert"),
    INT_KEY("max_room_size", "--max-room-size", max_room_size, 1, 10000, "participants per room"),
    INT_KEY("resume_grace_seconds", "--resume-grace", resume_grace_seconds, 0, 3600,
            "seconds a dropped participant may resume"),
    INT_KEY("rate_limit_per_second", NULL, rate_limit_per_second, 1, 100000, "messages/s per connection"),
    INT_KEY("rate_limit_burst", NULL, rate_limit_burst, 1, 100000, "message burst per connection"),
    INT_KEY("consent_timeout_ms", NULL, consent_timeout_ms, 1000, 600000, "ICE consent timeout"),
    INT_KEY("max_queue_delay_ms", "--max-queue-delay-ms", max_queue_delay_ms, 0, 10000,
            "media that waited longer for a busy worker is dropped, not sent late (0 = never)"),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static void copy_text(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src); }

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder holding client-web/ and configs/: the checkout the binary sits in
 * (build/diemcau → ..) when it has client-web, else the source tree meson was configured
 * from. Relative paths in a config file start here, not in the file's own folder, so that
 * a copy of configs/default.json works from anywhere (/etc/diemcau/…). */
static void program_root(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char candidate[PATH_MAX + 32];
            snprintf(candidate, sizeof candidate, "%s/../client-web", exe);
            char root[PATH_MAX];
            if (is_directory(candidate) && realpath(candidate, root)) {
                *strrchr(root, '/') = '\0'; /* the folder above client-web, without "build/.." */
                if (strlen(root) < size) {
                    copy_text(out, size, root);
                    return;
                }
            }
        }
    }
    copy_text(out, size, DC_SOURCE_ROOT);
}

static void default_web_root(char *out, size_t size)
{
    char root[DC_CONFIG_PATH_MAX - 16];
    program_root(root, sizeof root);
    snprintf(out, size, "%s/client-web", root);
}

void dc_config_defaults(dc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->http_port = 8080;
    copy_text(cfg->bind_ip, sizeof cfg->bind_ip, "0.0.0.0");
    cfg->media_port = 40000;
    copy_text(cfg->media_bind_ip, sizeof cfg->media_bind_ip, "0.0.0.0");
    copy_text(cfg->announce_ip, sizeof cfg->announce_ip, "127.0.0.1");
    default_web_root(cfg->web_root, sizeof cfg->web_root);
    cfg->workers = 0; /* one per core: dc_config_workers */
    cfg->max_room_size = 50;
    cfg->resume_grace_seconds = 20;
    cfg->rate_limit_per_second = 50;
    cfg->rate_limit_burst = 100;
    cfg->consent_timeout_ms = 30000;
    cfg->max_queue_delay_ms = 250;
}

static bool set_int(dc_config *cfg, const config_key *k, long long v, char *err, size_t err_len)
{
    if (v < k->min || v > k->max) {
        snprintf(err, err_len, "%s: %lld is out of range %ld..%ld", k->json_name, v, k->min, k->max);
        return false;
    }
    *(int *)((char *)cfg + k->offset) = (int)v;
    return true;
}

static bool set_text(dc_config *cfg, const config_key *k, const char *v, char *err, size_t err_len)
{
    if (strlen(v) >= k->size) {
        snprintf(err, err_len, "%s: value longer than %zu bytes", k->json_name, k->size - 1);
        return false;
    }
    copy_text((char *)cfg + k->offset, k->size, v);
    return true;
}

static bool set_path_from_file(dc_config *cfg, const config_key *k, const char *value, char *err, size_t err_len)
{
    if (!value[0] || value[0] == '/') return set_text(cfg, k, value, err, err_len);
    char root[DC_CONFIG_PATH_MAX - 16], joined[DC_CONFIG_PATH_MAX * 2];
    program_root(root, sizeof root);
    snprintf(joined, sizeof joined, "%s/%s", root, value);
    return set_text(cfg, k, joined, err, err_len);
}

static const config_key *key_by_json_name(const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].json_name, name)) return &keys[i];
    return NULL;
}

static const config_key *key_by_flag(const char *flag)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].flag && !strcmp(keys[i].flag, flag)) return &keys[i];
    return NULL;
}

bool dc_config_load_file(dc_config *cfg, const char *path, char *err, size_t err_len)
{
    if (is_directory(path)) {
        snprintf(err, err_len, "cannot open config file %s: it is a directory", path);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot open config file %s: %s", path, strerror(errno));
        return false;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        snprintf(err, err_len, "config file %s, line %d: %s", path, jerr.line, jerr.text);
        return false;
    }
    bool ok = json_is_object(root);
    if (!ok) snprintf(err, err_len, "%s: the top level must be a JSON object", path);
    const char *name;
    json_t *value;
    json_object_foreach(root, name, value)
    {
        if (!ok) break;
        if (name[0] == '_') continue; /* "_comment" keys document the file */
        const config_key *k = key_by_json_name(name);
        if (!k) {
            snprintf(err, err_len, "%s: unknown key \"%s\"", path, name);
            ok = false;
        } else if (k->type == KEY_INT) {
            if (!json_is_integer(value)) {
                snprintf(err, err_len, "%s: \"%s\" must be an integer", path, name);
                ok = false;
            } else {
                ok = set_int(cfg, k, json_integer_value(value), err, err_len);
            }
        } else if (!json_is_string(value)) {
            snprintf(err, err_len, "%s: \"%s\" must be a string", path, name);
            ok = false;
        } else if (k->type == KEY_PATH) {
            ok = set_path_from_file(cfg, k, json_string_value(value), err, err_len);
        } else {
            ok = set_text(cfg, k, json_string_value(value), err, err_len);
        }
    }
    json_decref(root);
    return ok;
}

static void print_usage(const char *prog)
{
    printf("Usage: %s [options]\n  --config FILE          JSON config (see configs/default.json)\n", prog);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].flag) {
            char usage[48];
            snprintf(usage, sizeof usage, "%s %s", keys[i].flag,
                     keys[i].type == KEY_INT    ? "N"
                     : keys[i].type == KEY_PATH ? "PATH"
                                                : "IP");
            printf("  %-22s %s\n", usage, keys[i].help);
        }
    }
    printf("  --help                 this text\n");
}

static bool parse_long(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end) return false;
    *out = v;
    return true;
}

dc_args_result dc_config_from_args(dc_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
    dc_config_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_usage(argv[0]);
            return DC_ARGS_EXIT_OK;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "--config needs a file name");
                return DC_ARGS_ERROR;
            }
            if (!dc_config_load_file(cfg, argv[i + 1], err, err_len)) return DC_ARGS_ERROR;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        const config_key *k = key_by_flag(argv[i]);
        if (!k) {
            snprintf(err, err_len, "unknown option %s (try --help)", argv[i]);
            return DC_ARGS_ERROR;
        }
        if (i + 1 >= argc) {
            snprintf(err, err_len, "%s needs a value", argv[i]);
            return DC_ARGS_ERROR;
        }
        const char *value = argv[++i];
        if (k->type == KEY_INT) {
            long long v;
            if (!parse_long(value, &v)) {
                snprintf(err, err_len, "%s: \"%s\" is not an integer", k->flag, value);
                return DC_ARGS_ERROR;
            }
            if (!set_int(cfg, k, v, err, err_len)) return DC_ARGS_ERROR;
        } else if (!set_text(cfg, k, value, err, err_len)) {
            return DC_ARGS_ERROR;
        }
    }
    return DC_ARGS_RUN;
}

int dc_config_workers(const dc_config *cfg)
{
    if (cfg->workers > 0) return cfg->workers;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)(cores < 256 ? cores : 256) : 1;
}

bool dc_config_validate(const dc_config *cfg, char *err, size_t err_len)
{
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        snprintf(err, err_len, "tls_cert and tls_key must be given together");
        return false;
    }
    struct stat st;
    bool found = stat(cfg->web_root, &st) == 0;
    if (!found || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len,
                 "web_root %s: %s (a relative web_root in a config file starts at the program's "
                 "folder, one on the command line at the current directory)",
                 cfg->web_root, found ? "not a directory" : strerror(errno));
        return false;
    }
    if (!cfg->announce_ip[0] || !cfg->bind_ip[0] || !cfg->media_bind_ip[0]) {
        snprintf(err, err_len, "bind, media_bind and announce_ip must not be empty");
        return false;
    }
    unsigned char addr[16];
    if (inet_pton(AF_INET, cfg->announce_ip, addr) != 1 && inet_pton(AF_INET6, cfg->announce_ip, addr) != 1) {
        snprintf(err, err_len, "announce_ip \"%s\" is not an IP address", cfg->announce_ip);
        return false;
    }
    if (cfg->media_port && cfg->media_port + dc_config_workers(cfg) - 1 > 65535) {
        snprintf(err, err_len, "media_port + workers exceeds 65535");
        return false;
    }
    return true;
}
