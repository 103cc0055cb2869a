/* See dev_token.h. */
#include "dev_token.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RESPONSE_MAX 16384

static int connect_to(const char *host, const char *port, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "dev token: %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        struct timeval tv = {.tv_sec = 10}; /* a server that does not answer fails the run, not hangs it */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(err, err_len, "dev token: cannot connect to %s:%s", host, port);
    return fd;
}

static bool send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* The response until the server closes (Connection: close), NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    return len;
}

/* The JSON object of the body: from its first '{' to its last '}' (also inside one chunk
 * of a chunked body). */
static json_t *body_json(char *resp)
{
    char *body = strstr(resp, "\r\n\r\n");
    char *open = body ? strchr(body, '{') : NULL, *close = body ? strrchr(body, '}') : NULL;
    if (!open || !close || close < open) return NULL;
    return json_loadb(open, (size_t)(close - open + 1), 0, NULL);
}

char *bench_dev_token(const char *ws_url, const char *room, const char *name, const char *role, char *err,
                      size_t err_len)
{
    char host[128], port[8] = "80";
    if (sscanf(ws_url, "ws://%127[^:/]:%7[0-9]", host, port) < 1) {
        snprintf(err, err_len, "dev token: cannot read host and port from %s", ws_url);
        return NULL;
    }
    json_t *req = json_pack("{s:s,s:s,s:s}", "room", room, "name", name, "role", role);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body) {
        snprintf(err, err_len, "dev token: out of memory");
        return NULL;
    }
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "POST /api/dev-token HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      host, port, strlen(body));
    char *token = NULL;
    int fd = connect_to(host, port, err, err_len);
    if (fd >= 0) {
        char *resp = malloc(RESPONSE_MAX);
        if (resp && send_all(fd, head, (size_t)hl) && send_all(fd, body, strlen(body))) {
            read_all(fd, resp, RESPONSE_MAX);
            int status = 0;
            sscanf(resp, "HTTP/1.%*d %d", &status);
            json_t *j = body_json(resp);
            const char *t = json_string_value(json_object_get(j, "token"));
            if (status == 200 && t) token = strdup(t);
            else
                snprintf(err, err_len, "dev token: HTTP %d: %s", status,
                         json_string_value(json_object_get(j, "message")) ?: "no token in the answer");
            json_decref(j);
        } else {
            snprintf(err, err_len, "dev token: request failed");
        }
        free(resp);
        close(fd);
    }
    free(body);
    return token;
}
