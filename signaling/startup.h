/* What the server checks and says when it starts: a listen probe that names the real
 * problem (port in use, address not on this machine) before libwebsockets hides it, and the
 * banner with the effective settings and a warning for a set-up other machines cannot use. */
#ifndef DC_STARTUP_H
#define DC_STARTUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* True when a TCP socket can listen on ip:port as lws will (ip "0.0.0.0": every address);
 * else false with a sentence in err saying what is wrong and what to change. */
bool dc_startup_check_listen(const char *ip, int port, char *err, size_t err_len);

/* The effective settings (workers, ports, announced address, web root, TLS, the URL to open)
 * on out; warnings about them on warn. */
void dc_startup_banner(FILE *out, FILE *warn, const dc_config *cfg, uint16_t http_port, const uint16_t *media_ports,
                       size_t n_media_ports);

#endif
