/* The network face of the program: one libwebsockets context serving the static web
 * client (config web_root) at / and the signaling WebSocket at /ws on one port (HTTPS/WSS
 * when tls_cert/tls_key are set). It also owns the media engine, so that it can wake the
 * lws loop from engine threads and tear both down in a safe order. */
#ifndef DC_SERVER_H
#define DC_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "room_tree.h"

typedef struct dc_server dc_server;

/* Listens and starts the media engine; NULL with a message in err on failure. tree: the
 * room tree (room_tree_file.h), borrowed: free it after dc_server_free; NULL = none. */
dc_server *dc_server_new(const dc_config *cfg, const dc_room_tree *tree, char *err, size_t err_len);
uint16_t dc_server_http_port(const dc_server *s);
/* The UDP port of each media worker, in worker order; returns how many were written. */
size_t dc_server_media_ports(const dc_server *s, uint16_t *ports, size_t max);
uint16_t dc_server_media_tcp_port(const dc_server *s); /* 0: ICE-TCP is off */
/* Serves until *stop becomes non-zero (set it from a signal handler). */
void dc_server_run(dc_server *s, volatile sig_atomic_t *stop);
/* Stops the engine, closes every connection, frees everything. */
void dc_server_free(dc_server *s);

#endif
