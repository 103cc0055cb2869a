/* Program configuration: defaults compiled in, an optional JSON file (--config FILE) on
 * top, then command-line options on top of that. configs/default.json lists every key
 * with its default value. */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

#define DC_CONFIG_IP_MAX 64
#define DC_CONFIG_PATH_MAX 1024
#define DC_CONFIG_SECRET_MAX 512
#define DC_CONFIG_ADMIN_TOKEN_MAX 256
#define DC_CONFIG_DEV_CLIENTS_MAX 16
#define DC_CONFIG_SITE_BUDGETS_MAX 64 /* in the file; the admin API may set more */
#define DC_CONFIG_SITE_NAME_MAX 257   /* a token's site (DC_SITE_MAX_BYTES) and its NUL */
#define DC_CONFIG_TIERS 4             /* the room tree's node kinds (room_tree.h dc_node_kind) */

/* A technician's downstream budget for a site: what all its participants together may be
 * sent (site_budget.h splits it). */
typedef struct {
    char site[DC_CONFIG_SITE_NAME_MAX];
    int kbps;
} dc_site_budget_entry;

typedef struct {
    int http_port;                  /* 0 = any free port */
    char bind_ip[DC_CONFIG_IP_MAX]; /* HTTP/WebSocket listen address */
    int media_port;                 /* first UDP port; 0 = any free port */
    char media_bind_ip[DC_CONFIG_IP_MAX];
    char announce_ip[DC_CONFIG_IP_MAX]; /* address put in the server's ICE candidates */
    char web_root[DC_CONFIG_PATH_MAX];  /* static files served at / */
    int workers;
    char tls_cert[DC_CONFIG_PATH_MAX]; /* PEM; both empty = plain HTTP/WS */
    char tls_key[DC_CONFIG_PATH_MAX];
    int max_room_size;
    int resume_grace_seconds;
    int rate_limit_per_second;
    int rate_limit_burst;
    int consent_timeout_ms;
    int max_queue_delay_ms; /* 0 = never drop late media */
    bool nack;              /* loss repair: NACK answered with RTX, RTX accepted from publishers */
    bool simulcast;         /* pages publish their camera in three layers (join result) */
    bool red;               /* RFC 2198 RED for audio: accepted from publishers, offered to subscribers */

    /* Join tokens (issue 11). Development mode: anyone at an address in dev_token_clients
     * may mint a token for any role at POST /api/dev-token. Never on in a deployment. */
    bool dev_mode;
    dc_cidr dev_token_clients[DC_CONFIG_DEV_CLIENTS_MAX];
    size_t n_dev_token_clients;
    /* The HS256 key of join tokens: token_secret, or token_secret_file's content trimmed.
     * Never logged. Empty in development mode: dc_config_prepare_secret makes one up. */
    uint8_t token_secret[DC_CONFIG_SECRET_MAX];
    size_t token_secret_len;
    bool token_secret_generated;                 /* random at start: tokens die with the process */
    char admin_token[DC_CONFIG_ADMIN_TOKEN_MAX]; /* bearer credential for /admin; "" = no admin API */
    size_t admin_token_len;
    char record_path[DC_CONFIG_PATH_MAX]; /* SQLite meeting record; "" = none */

    /* Networks that block UDP: passive ICE-TCP on one TCP port beside the UDP candidate,
     * and a TURN server (TCP/TLS) the pages are told about, with short-lived credentials
     * from its REST API shared secret (coturn use-auth-secret). */
    bool ice_tcp;
    int media_tcp_port;                     /* 0 = any free port */
    char turn_urls[DC_CONFIG_PATH_MAX];     /* space- or comma-separated turn:/turns: URLs; "" = no TURN */
    char turn_secret[DC_CONFIG_SECRET_MAX]; /* coturn static-auth-secret; never logged */
    size_t turn_secret_len;
    int turn_ttl_seconds; /* how long the credentials a page gets are valid */

    /* Bandwidth allocation (issue 12 §5): site budgets at start (the admin API changes
     * them at run time), tier budgets, and the order video slots get bandwidth in, most important first,
     * as use names: "screen,floor,chair,gallery" (slides first: the meetings' default) */
    dc_site_budget_entry site_budgets[DC_CONFIG_SITE_BUDGETS_MAX];
    size_t n_site_budgets;
    /* kbit/s per site of a tier (indexed by dc_node_kind; 0 = none): a site in a room of
     * that tier gets it unless it has its own site budget */
    int tier_budgets[DC_CONFIG_TIERS];
    char slot_priority[64];

    /* The room tree (issue 13, room_tree.h): a JSON file, "" = the built-in tree; with
     * tree_rooms_only, joins to a room that is not a node are refused (no_such_room). */
    char room_tree[DC_CONFIG_PATH_MAX];
    bool tree_rooms_only;
} dc_config;

void dc_config_defaults(dc_config *cfg);

/* Applies a JSON object file on top of cfg. Unknown keys and wrong types are errors (a typo
 * in a config file should not be silently ignored). */
bool dc_config_load_file(dc_config *cfg, const char *path, char *err, size_t err_len);

typedef enum { DC_ARGS_RUN = 0, DC_ARGS_EXIT_OK, DC_ARGS_ERROR } dc_args_result;

/* Defaults, then --config FILE (wherever it appears), then the other options in order.
 * --help prints usage to stdout and returns DC_ARGS_EXIT_OK. */
dc_args_result dc_config_from_args(dc_config *cfg, int argc, char **argv, char *err, size_t err_len);

/* Range and consistency checks after all sources are applied. Outside development mode a
 * token secret of at least DC_TOKEN_SECRET_MIN_BYTES is required. */
bool dc_config_validate(const dc_config *cfg, char *err, size_t err_len);

/* In development mode without a configured secret: a random one for this run (false if the
 * system has no randomness to give). Does nothing otherwise. Call after dc_config_validate. */
bool dc_config_prepare_secret(dc_config *cfg);

/* The number of media workers: the configured one, or one per online CPU core for 0. */
int dc_config_workers(const dc_config *cfg);

#endif
