/* Socket addresses from text: a leaf shared by the UDP sockets and the ICE-TCP listener. */
#ifndef SFU_NET_ADDRESS_H
#define SFU_NET_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The socket address of a numeric IPv4 or IPv6 address and a port (for bind); false if
 * ip is neither. */
bool sfu_net_bind_address(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

#endif
