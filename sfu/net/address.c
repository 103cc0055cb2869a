/* Socket addresses from text (address.h). */
#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

bool sfu_net_bind_address(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    *ss = (struct sockaddr_storage){0};
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof *sin;
        return true;
    }
    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof *sin6;
        return true;
    }
    return false;
}
