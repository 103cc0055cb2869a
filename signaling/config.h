/* Program configuration: defaults compiled in, an optional JSON file (--config FILE) on
 * top, then command-line options on top of that. configs/default.json lists every key
 * with its default value. */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define DC_CONFIG_IP_MAX 64
#define DC_CONFIG_PATH_MAX 1024

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
} dc_config;

void dc_config_defaults(dc_config *cfg);

/* Applies a JSON object file on top of cfg. Unknown keys and wrong types are errors (a typo
 * in a config file should not be silently ignored). */
bool dc_config_load_file(dc_config *cfg, const char *path, char *err, size_t err_len);

typedef enum { DC_ARGS_RUN = 0, DC_ARGS_EXIT_OK, DC_ARGS_ERROR } dc_args_result;

/* Defaults, then --config FILE (wherever it appears), then the other options in order.
 * --help prints usage to stdout and returns DC_ARGS_EXIT_OK. */
dc_args_result dc_config_from_args(dc_config *cfg, int argc, char **argv, char *err, size_t err_len);

/* Range and consistency checks after all sources are applied. */
bool dc_config_validate(const dc_config *cfg, char *err, size_t err_len);

/* The number of media workers: the configured one, or one per online CPU core for 0. */
int dc_config_workers(const dc_config *cfg);

#endif
