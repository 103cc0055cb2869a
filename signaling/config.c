/* Configuration: one table describes every key once (JSON name, command-line flag, type,
 * range), so the file loader, the option parser and --help cannot drift apart. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bandwidth_policy.h"
#include "room_tree.h"
#include "token.h"

_Static_assert(DC_CONFIG_TIERS == DC_NODE_KIND_COUNT, "tier_budgets has a budget per room tree node kind");

#ifndef DC_SOURCE_ROOT
#define DC_SOURCE_ROOT "."
#endif

/* KEY_PATH: text; a relative path in a config file is relative to the program's folder
 * (program_root), on the command line to the current directory. KEY_SECRET: bytes with a
 * length (len_offset), never echoed in a message; KEY_SECRET_FILE: a path (as KEY_PATH)
 * whose content, trimmed, becomes the KEY_SECRET at offset. KEY_CIDRS: a list of ranges.
 * KEY_BUDGETS: an object of site name → kbit/s; KEY_TIER_BUDGETS: of tier (a room tree
 * node kind) → kbit/s. */
typedef enum {
    KEY_INT,
    KEY_TEXT,
    KEY_PATH,
    KEY_BOOL,
    KEY_SECRET,
    KEY_SECRET_FILE,
    KEY_CIDRS,
    KEY_BUDGETS,
    KEY_TIER_BUDGETS
} key_type;

typedef struct {
    const char *json_name;
    const char *flag; /* NULL: file only */
    key_type type;
    size_t offset;
    size_t size;   /* KEY_TEXT: buffer size */
    long min, max; /* KEY_INT */
    const char *help;
    size_t len_offset; /* KEY_SECRET, KEY_SECRET_FILE: the size_t length field */
} config_key;

#define INT_KEY(name, flag, field, lo, hi, help) \
    { \
        name, flag, KEY_INT, offsetof(dc_config, field), 0, lo, hi, help, 0 \
    }
#define TEXT_KEY(name, flag, field, help) \
    { \
        name, flag, KEY_TEXT, offsetof(dc_config, field), sizeof(((dc_config *)0)->field), 0, 0, help, 0 \
    }
#define PATH_KEY(name, flag, field, help) \
    { \
        name, flag, KEY_PATH, offsetof(dc_config, field), sizeof(((dc_config *)0)->field), 0, 0, help, 0 \
    }

#define BOOL_KEY(name, flag, field, help) \
    { \
        name, flag, KEY_BOOL, offsetof(dc_config, field), 0, 0, 0, help, 0 \
    }
/* A secret (bytes, NUL-terminated, at most size - 1) and its length field. */
#define SECRET_KEY(name, flag, type, field, help) \
    { \
        name, flag, type, offsetof(dc_config, field), sizeof(((dc_config *)0)->field), 0, 0, help, \
            offsetof(dc_config, field##_len) \
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
    BOOL_KEY("dev_mode", "--dev-mode", dev_mode, "development mode: anyone allowed may mint join tokens (true|false)"),
    {"dev_token_clients", NULL, KEY_CIDRS, 0, 0, 0, 0, "address ranges that may call /api/dev-token", 0},
    SECRET_KEY("token_secret", NULL, KEY_SECRET, token_secret, "join token key"),
    SECRET_KEY("token_secret_file", "--token-secret-file", KEY_SECRET_FILE, token_secret,
               "file holding the join token key (at least 32 bytes)"),
    SECRET_KEY("admin_token", NULL, KEY_SECRET, admin_token, "bearer credential of /admin"),
    SECRET_KEY("admin_token_file", "--admin-token-file", KEY_SECRET_FILE, admin_token,
               "file holding the bearer credential of /admin"),
    PATH_KEY("record_path", "--record", record_path, "SQLite meeting record (\"\" = none)"),
    INT_KEY("resume_grace_seconds", "--resume-grace", resume_grace_seconds, 0, 3600,
            "seconds a dropped participant may resume"),
    INT_KEY("rate_limit_per_second", NULL, rate_limit_per_second, 1, 100000, "messages/s per connection"),
    INT_KEY("rate_limit_burst", NULL, rate_limit_burst, 1, 100000, "message burst per connection"),
    INT_KEY("consent_timeout_ms", NULL, consent_timeout_ms, 1000, 600000, "ICE consent timeout"),
    INT_KEY("max_queue_delay_ms", "--max-queue-delay-ms", max_queue_delay_ms, 0, 10000,
            "media that waited longer for a busy worker is dropped, not sent late (0 = never)"),
    BOOL_KEY("ice_tcp", "--ice-tcp", ice_tcp,
             "also offer media over TCP (passive ICE-TCP) for networks that block UDP (true|false)"),
    INT_KEY("media_tcp_port", "--media-tcp-port", media_tcp_port, -1, 65535,
            "the one ICE-TCP media port (0 = any free port, -1 = the number of media_port)"),
    TEXT_KEY("turn_urls", "--turn-urls", turn_urls,
             "TURN server URLs given to pages, e.g. turns:turn.example.vn:5349?transport=tcp (\"\" = none)"),
    SECRET_KEY("turn_secret", NULL, KEY_SECRET, turn_secret, "TURN REST API shared secret (coturn static-auth-secret)"),
    SECRET_KEY("turn_secret_file", "--turn-secret-file", KEY_SECRET_FILE, turn_secret,
               "file holding the TURN shared secret"),
    INT_KEY("turn_ttl_seconds", NULL, turn_ttl_seconds, 60, 7 * 86400, "lifetime of the TURN credentials a page gets"),
    BOOL_KEY("nack", "--nack", nack, "repair lost video packets: NACK answered by retransmission, RTX (true|false)"),
    BOOL_KEY("red", "--red", red, "redundant audio (RFC 2198 RED) where the browsers negotiate it (true|false)"),
    BOOL_KEY("simulcast", "--simulcast", simulcast,
             "pages send their camera in three layers, each viewer gets the one its tile needs (true|false)"),
    {"site_budgets", NULL, KEY_BUDGETS, 0, 0, 0, 0, "downstream budget per site, kbit/s", 0},
    {"tier_budgets", NULL, KEY_TIER_BUDGETS, 0, 0, 0, 0, "downstream budget per site of a tier, kbit/s", 0},
    TEXT_KEY("slot_priority", "--slot-priority", slot_priority,
             "the order video gets bandwidth in, most important first (screen,floor,chair,gallery)"),
    PATH_KEY("room_tree", "--room-tree", room_tree,
             "the province's room tree, JSON (configs/rooms.json; \"\" = the built-in one)"),
    BOOL_KEY("tree_rooms_only", "--tree-rooms-only", tree_rooms_only,
             "only the room tree's rooms may be joined, no ad-hoc rooms (true|false)"),
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

/* relative: a path in the program's folder */
static void in_program_root(const char *relative, char *out, size_t size)
{
    char root[DC_CONFIG_PATH_MAX - 32];
    program_root(root, sizeof root);
    snprintf(out, size, "%s/%s", root, relative);
}

static void default_dev_token_clients(dc_config *cfg)
{
    dc_cidr_parse("127.0.0.1/32", &cfg->dev_token_clients[0]);
    dc_cidr_parse("::1/128", &cfg->dev_token_clients[1]);
    cfg->n_dev_token_clients = 2;
}

void dc_config_defaults(dc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->http_port = 8080;
    copy_text(cfg->bind_ip, sizeof cfg->bind_ip, "0.0.0.0");
    cfg->media_port = 40000;
    copy_text(cfg->media_bind_ip, sizeof cfg->media_bind_ip, "0.0.0.0");
    copy_text(cfg->announce_ip, sizeof cfg->announce_ip, "127.0.0.1");
    in_program_root("client-web", cfg->web_root, sizeof cfg->web_root);
    cfg->workers = 0; /* one per core: dc_config_workers */
    cfg->max_room_size = 300;
    cfg->resume_grace_seconds = 20;
    cfg->rate_limit_per_second = 50;
    cfg->rate_limit_burst = 100;
    cfg->consent_timeout_ms = 30000;
    cfg->max_queue_delay_ms = 250;
    cfg->nack = true;
    cfg->simulcast = false; /* off for now: with it on, a Firefox viewer under ASan got no media (stop 19) */
    cfg->red = true;
    cfg->dev_mode = true;
    cfg->ice_tcp = true;
    cfg->media_tcp_port = -1; /* TCP on the first media port's number */
    cfg->turn_ttl_seconds = 6 * 3600;
    copy_text(cfg->slot_priority, sizeof cfg->slot_priority, "screen,floor,chair,gallery");
    default_dev_token_clients(cfg);
    in_program_root("data/record.sqlite", cfg->record_path, sizeof cfg->record_path);
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
    char joined[DC_CONFIG_PATH_MAX * 2];
    in_program_root(value, joined, sizeof joined);
    return set_text(cfg, k, joined, err, err_len);
}

static bool set_bool(dc_config *cfg, const config_key *k, bool v)
{
    *(bool *)((char *)cfg + k->offset) = v;
    return true;
}

static bool set_secret(dc_config *cfg, const config_key *k, const char *v, size_t len, char *err, size_t err_len)
{
    if (len >= k->size) {
        snprintf(err, err_len, "%s: longer than %zu bytes", k->json_name, k->size - 1);
        return false;
    }
    char *dst = (char *)cfg + k->offset;
    memset(dst, 0, k->size);
    memcpy(dst, v, len);
    *(size_t *)((char *)cfg + k->len_offset) = len;
    return true;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Reads the secret file at path (already resolved); its content without surrounding blanks
 * (the newline `openssl rand -base64 48 > FILE` ends it with) is the secret. */
static bool set_secret_from_file(dc_config *cfg, const config_key *k, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s %s: %s", k->json_name, path, strerror(errno));
        return false;
    }
    char buf[DC_CONFIG_SECRET_MAX * 2];
    size_t n = fread(buf, 1, sizeof buf, f);
    bool too_long = n == sizeof buf, read_error = ferror(f);
    fclose(f);
    if (read_error) {
        snprintf(err, err_len, "%s %s: cannot read it", k->json_name, path);
        return false;
    }
    size_t start = 0;
    while (n && is_blank(buf[n - 1])) n--;
    while (start < n && is_blank(buf[start])) start++;
    if (too_long || start == n) {
        snprintf(err, err_len, "%s %s: %s", k->json_name, path,
                 too_long ? "the file is too long" : "the file is empty");
        return false;
    }
    bool ok = set_secret(cfg, k, buf + start, n - start, err, err_len);
    OPENSSL_cleanse(buf, sizeof buf);
    return ok;
}

static bool set_cidrs(dc_config *cfg, const config_key *k, json_t *list, char *err, size_t err_len)
{
    if (!json_is_array(list) || json_array_size(list) > DC_CONFIG_DEV_CLIENTS_MAX) {
        snprintf(err, err_len, "\"%s\" must be an array of at most %d address ranges", k->json_name,
                 DC_CONFIG_DEV_CLIENTS_MAX);
        return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (!json_is_string(item) || !dc_cidr_parse(json_string_value(item), &cfg->dev_token_clients[i])) {
            snprintf(err, err_len, "\"%s\" item %zu is not an address range like \"127.0.0.1/32\" or \"::1/128\"",
                     k->json_name, i);
            return false;
        }
    }
    cfg->n_dev_token_clients = json_array_size(list);
    return true;
}

/* site_budgets or tier_budgets: an object of name → kbit/s, each checked, all replaced. */
static bool set_budgets(dc_config *cfg, const config_key *k, json_t *obj, char *err, size_t err_len)
{
    bool tiers = k->type == KEY_TIER_BUDGETS;
    if (!json_is_object(obj) || json_object_size(obj) > (tiers ? DC_CONFIG_TIERS : DC_CONFIG_SITE_BUDGETS_MAX)) {
        snprintf(err, err_len, "\"%s\" must be an object of at most %d %s, {\"<%s>\": kbit/s}", k->json_name,
                 tiers ? DC_CONFIG_TIERS : DC_CONFIG_SITE_BUDGETS_MAX, tiers ? "tiers" : "sites",
                 tiers ? "tier" : "site");
        return false;
    }
    if (tiers) memset(cfg->tier_budgets, 0, sizeof cfg->tier_budgets);
    else cfg->n_site_budgets = 0;
    const char *name;
    json_t *kbps;
    json_object_foreach(obj, name, kbps)
    {
        dc_node_kind tier = dc_room_node_kind_parse(name);
        bool name_ok = tiers ? tier < DC_NODE_KIND_COUNT : name[0] && strlen(name) < DC_CONFIG_SITE_NAME_MAX;
        if (!name_ok || !json_is_integer(kbps) || json_integer_value(kbps) < 1 || json_integer_value(kbps) > 10000000) {
            snprintf(err, err_len, "\"%s\": %s \"%.64s\" needs %s and a budget of 1–10000000 kbit/s", k->json_name,
                     tiers ? "tier" : "site", name,
                     tiers ? "to be province, district, commune or reception" : "a name");
            return false;
        }
        if (tiers) {
            cfg->tier_budgets[tier] = (int)json_integer_value(kbps);
            continue;
        }
        dc_site_budget_entry *e = &cfg->site_budgets[cfg->n_site_budgets++];
        copy_text(e->site, sizeof e->site, name);
        e->kbps = (int)json_integer_value(kbps);
    }
    return true;
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

/* Pairs of keys that set the same value; an empty one of them is "not set here". */
static const char *const exclusive_keys[] = {"token_secret", "token_secret_file", "admin_token", "admin_token_file",
                                             NULL};

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
    for (const char *const *pair = exclusive_keys; ok && *pair; pair += 2) {
        if (json_string_length(json_object_get(root, pair[0])) && json_string_length(json_object_get(root, pair[1]))) {
            snprintf(err, err_len, "%s: set \"%s\" or \"%s\", not both", path, pair[0], pair[1]);
            ok = false;
        }
    }
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
        } else if (k->type == KEY_BOOL) {
            if (!json_is_boolean(value)) {
                snprintf(err, err_len, "%s: \"%s\" must be true or false", path, name);
                ok = false;
            } else {
                ok = set_bool(cfg, k, json_is_true(value));
            }
        } else if (k->type == KEY_CIDRS) {
            ok = set_cidrs(cfg, k, value, err, err_len);
        } else if (k->type == KEY_BUDGETS || k->type == KEY_TIER_BUDGETS) {
            ok = set_budgets(cfg, k, value, err, err_len);
        } else if (!json_is_string(value)) {
            snprintf(err, err_len, "%s: \"%s\" must be a string", path, name);
            ok = false;
        } else if (k->type == KEY_PATH) {
            ok = set_path_from_file(cfg, k, json_string_value(value), err, err_len);
        } else if (json_string_length(value) == 0 && (k->type == KEY_SECRET || k->type == KEY_SECRET_FILE)) {
            continue; /* "not set here": the other key of the pair may set it */
        } else if (k->type == KEY_SECRET) {
            ok = set_secret(cfg, k, json_string_value(value), json_string_length(value), err, err_len);
        } else if (k->type == KEY_SECRET_FILE) {
            char resolved[DC_CONFIG_PATH_MAX * 2];
            const char *file = json_string_value(value);
            if (file[0] != '/') in_program_root(file, resolved, sizeof resolved);
            else snprintf(resolved, sizeof resolved, "%s", file);
            ok = set_secret_from_file(cfg, k, resolved, err, err_len);
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
                     : keys[i].type == KEY_BOOL ? "BOOL"
                     : keys[i].type == KEY_TEXT ? (strstr(keys[i].json_name, "urls") ? "URLS" : "IP")
                                                : "PATH");
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
        } else if (k->type == KEY_BOOL) {
            bool on = !strcmp(value, "true"), off = !strcmp(value, "false");
            if (!on && !off) {
                snprintf(err, err_len, "%s: \"%s\" must be true or false", k->flag, value);
                return DC_ARGS_ERROR;
            }
            set_bool(cfg, k, on);
        } else if (k->type == KEY_SECRET_FILE) {
            if (!set_secret_from_file(cfg, k, value, err, err_len)) return DC_ARGS_ERROR;
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
    uint8_t rank[DC_PRIO_CLASSES];
    if (!dc_priority_parse(cfg->slot_priority, rank, err, err_len)) return false;
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
    if (!cfg->dev_mode && cfg->token_secret_len < DC_TOKEN_SECRET_MIN_BYTES) {
        snprintf(err, err_len,
                 "%s: join tokens need a secret of at least %d bytes when dev_mode is false: set "
                 "token_secret_file (create it with: openssl rand -base64 48 > /etc/diemcau/token.secret; "
                 "see docs/DEPLOY.md)",
                 cfg->token_secret_len ? "token_secret is too short" : "token_secret is missing",
                 DC_TOKEN_SECRET_MIN_BYTES);
        return false;
    }
    return true;
}

bool dc_config_prepare_secret(dc_config *cfg)
{
    if (!cfg->dev_mode || cfg->token_secret_len) return true;
    enum { GENERATED_BYTES = 32 };
    if (RAND_bytes(cfg->token_secret, GENERATED_BYTES) != 1) return false;
    cfg->token_secret_len = GENERATED_BYTES;
    cfg->token_secret_generated = true;
    return true;
}
