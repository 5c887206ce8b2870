/* Test HTTP client (see http_client.h). */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { MAX_RESPONSE = 64 << 20, DEFAULT_TIMEOUT_S = 60 };

static int connect_loopback(int port, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the server may answer early and close: read its answer anyway */
        p += n;
        len -= (size_t)n;
    }
}

static char *read_all(int fd, size_t *got)
{
    size_t cap = 65536;
    char *buf = malloc(cap + 1);
    *got = 0;
    while (buf && *got < MAX_RESPONSE) {
        if (*got == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + *got, cap - *got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *got += (size_t)n;
    }
    if (buf)
        buf[*got] = '\0';
    return buf;
}

struct http_response http_exchange(int port, const void *request, size_t len, int timeout_s)
{
    struct http_response r = {0, NULL, NULL, 0};
    int fd = connect_loopback(port, timeout_s > 0 ? timeout_s : DEFAULT_TIMEOUT_S);
    size_t got = 0;
    char *raw = NULL;
    if (fd >= 0) {
        send_all(fd, request, len);
        shutdown(fd, SHUT_WR);
        raw = read_all(fd, &got);
        close(fd);
    }
    char *end = raw ? strstr(raw, "\r\n\r\n") : NULL;
    if (!end) { /* no answer: two empty strings in one buffer, like an answer's */
        free(raw);
        r.head = calloc(2, 1);
        r.body = r.head ? r.head + 1 : NULL;
        return r;
    }
    *end = '\0';
    r.head = raw;
    r.body = end + 4;
    r.len = got - (size_t)(r.body - raw);
    if (sscanf(raw, "HTTP/1.%*d %d", &r.status) != 1)
        r.status = 0;
    return r;
}

struct http_response http_request(int port, const char *token, const char *method,
                                  const char *path, const char *extra_headers, const void *body,
                                  size_t body_len)
{
    size_t head_cap = strlen(path) + (extra_headers ? strlen(extra_headers) : 0) + 600;
    char *msg = malloc(head_cap + body_len);
    if (!msg)
        return http_exchange(-1, "", 0, 1);
    int n = snprintf(msg, head_cap,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%sContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     method, path, port, token ? "Authorization: Bearer " : "",
                     token ? token : "", token ? "\r\n" : "", body_len,
                     extra_headers ? extra_headers : "");
    if (body_len)
        memcpy(msg + n, body, body_len);
    struct http_response r = http_exchange(port, msg, (size_t)n + body_len, 0);
    free(msg);
    return r;
}

const char *http_header(const struct http_response *r, const char *name, char *out,
                        size_t outlen)
{
    size_t n = strlen(name);
    for (const char *line = r->head ? strstr(r->head, "\r\n") : NULL; line;
         line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ')
                p++;
            size_t len = strcspn(p, "\r");
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, p, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

char *http_multipart(const char *boundary, const uint8_t *const *files, const size_t *sizes,
                     size_t n, size_t *len)
{
    size_t cap = 200 + strlen(boundary);
    for (size_t i = 0; i < n; i++)
        cap += sizes[i] + 200 + strlen(boundary);
    char *b = malloc(cap), *p = b;
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                        "filename=\"img%zu.bin\"\r\nContent-Type: application/octet-stream"
                        "\r\n\r\n", boundary, i);
        memcpy(p, files[i], sizes[i]);
        p += sizes[i];
        p += sprintf(p, "\r\n");
    }
    p += sprintf(p, "--%s--\r\n", boundary);
    *len = (size_t)(p - b);
    return b;
}

struct http_response http_upload(int port, const char *token, const uint8_t *data, size_t size)
{
    size_t len;
    char *body = http_multipart("unmaskTestBoundary7MA4YWxk", &data, &size, 1, &len);
    struct http_response r = http_request(port, token, "POST", "/api/analyses",
                                          "Content-Type: multipart/form-data; "
                                          "boundary=unmaskTestBoundary7MA4YWxk\r\n", body, len);
    free(body);
    return r;
}

void http_response_free(struct http_response *r)
{
    free(r->head); /* the body lives in the same buffer */
    r->head = r->body = NULL;
}
