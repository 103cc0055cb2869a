/* See startup.h. */
#include "startup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 0 when a throw-away socket of this family binds addr, else the errno. SO_REUSEADDR as lws
 * sets it, so a port held only by connections in TIME_WAIT (a restart) is not taken for busy;
 * a socket listening on the port still is. */
static int try_bind(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM, 0);
    if (fd < 0) return errno;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* lws listens on "every address" with one dual-stack IPv6 socket: it collides with IPv4
     * listeners too */
    if (addr->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    int e = bind(fd, addr, len) == 0 ? 0 : errno;
    close(fd);
    return e;
}

bool dc_startup_check_listen(const char *ip, int port, char *err, size_t err_len)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    int e;
    if (!strcmp(ip, "0.0.0.0")) {
        v6.sin6_addr = in6addr_any;
        e = try_bind((struct sockaddr *)&v6, sizeof v6);
        if (e == EAFNOSUPPORT) e = try_bind((struct sockaddr *)&v4, sizeof v4); /* no IPv6 here */
    } else if (inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
        e = try_bind((struct sockaddr *)&v4, sizeof v4);
    } else if (inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1) {
        e = try_bind((struct sockaddr *)&v6, sizeof v6);
    } else {
        return true; /* an interface name: lws resolves it */
    }
    if (e == 0 || e == EAFNOSUPPORT) return true;
    if (e == EADDRINUSE)
        snprintf(err, err_len,
                 "HTTP port %d on %s is already in use by another program (another diemcau?): "
                 "stop it, or choose another port with --http-port",
                 port, ip);
    else if (e == EADDRNOTAVAIL)
        snprintf(err, err_len, "cannot listen on %s: no such address on this machine (check --bind)", ip);
    else if (e == EACCES)
        snprintf(err, err_len,
                 "cannot listen on port %d: ports below 1024 need root; use --http-port 8080 "
                 "or above, or let a firewall rule forward the port",
                 port);
    else snprintf(err, err_len, "cannot listen on %s port %d: %s", ip, port, strerror(e));
    return false;
}

static bool is_loopback(const char *ip)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool is_wildcard(const char *ip) { return !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"); }

/* This machine's IPv4 addresses other than loopback, for the warning's suggestion. */
static void lan_addresses(char *out, size_t size)
{
    out[0] = '\0';
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0) return;
    size_t used = 0;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, text, sizeof text);
        if (is_loopback(text) || used + strlen(text) + 3 >= size) continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", text);
    }
    freeifaddrs(list);
}

/* Who may get a join token: in development mode anyone in dev_token_clients, for any role. */
static void print_token_mode(FILE *out, const dc_config *cfg)
{
    if (!cfg->dev_mode) {
        fprintf(out, "  join tokens           signed with the configured secret; /api/dev-token is off\n");
        return;
    }
    fprintf(out, "  join tokens           DEVELOPMENT MODE: /api/dev-token gives a token for any role (chair\n"
                 "                        included) to any client from");
    for (size_t i = 0; i < cfg->n_dev_token_clients; i++) {
        char range[DC_CIDR_TEXT_MAX];
        dc_cidr_format(&cfg->dev_token_clients[i], range, sizeof range);
        fprintf(out, "%s %s", i ? "," : "", range);
    }
    if (!cfg->n_dev_token_clients) fprintf(out, " (no address: dev_token_clients is empty)");
    fprintf(out, "%s.\n                        Not for a real meeting: set dev_mode false (docs/DEPLOY.md)\n",
            cfg->token_secret_generated ? "; tokens are signed with a random secret for this run" : "");
}

void dc_startup_banner(FILE *out, FILE *warn, const dc_config *cfg, uint16_t http_port, const uint16_t *media_ports,
                       size_t n_media_ports)
{
    bool tls = cfg->tls_cert[0] != '\0';
    const char *scheme = tls ? "https" : "http";
    fprintf(out, "Điểm Cầu settings:\n");
    fprintf(out, "  web page + WebSocket  %s port %u, TLS %s\n", cfg->bind_ip, http_port,
            tls ? "on (HTTPS/WSS; http:// is redirected)" : "off (plain HTTP)");
    fprintf(out, "  media (UDP)           %s port%s", cfg->media_bind_ip, n_media_ports == 1 ? "" : "s");
    for (size_t i = 0; i < n_media_ports; i++) fprintf(out, i ? ",%u" : " %u", media_ports[i]);
    fprintf(out, " (%zu worker%s), announced to browsers as %s\n", n_media_ports, n_media_ports == 1 ? "" : "s",
            cfg->announce_ip);
    fprintf(out, "  web root              %s\n", cfg->web_root);
    print_token_mode(out, cfg);
    if (is_loopback(cfg->announce_ip))
        fprintf(out, "  open                  %s://localhost:%u/ (on this machine only)\n", scheme, http_port);
    else
        fprintf(out,
                strchr(cfg->announce_ip, ':') ? "  open                  %s://[%s]:%u/\n"
                                              : "  open                  %s://%s:%u/\n",
                scheme, cfg->announce_ip, http_port);
    fflush(out);

    if (is_loopback(cfg->announce_ip) && (is_wildcard(cfg->bind_ip) || is_wildcard(cfg->media_bind_ip))) {
        char lan[256];
        lan_addresses(lan, sizeof lan);
        fprintf(warn,
                "warning: the announced media address is %s (loopback) but the server listens on all interfaces:\n"
                "  browsers on other machines will load the page but get no sound or picture. Set --announce-ip\n"
                "  (config announce_ip) to this machine's address as they reach it%s%s%s.\n",
                cfg->announce_ip, lan[0] ? " (this machine has: " : "", lan, lan[0] ? ")" : "");
    }
    if (!tls && !is_loopback(cfg->announce_ip))
        fprintf(warn, "warning: without TLS, browsers on other machines refuse camera and microphone to\n"
                      "  http:// pages: set --tls-cert and --tls-key (docs/TLS.md).\n");
    fflush(warn);
}
