/* A minimal HTTP/1.1 client over loopback for the tests of `unmask serve`: one connection per
 * request (Connection: close), every socket with a timeout, so a test can never hang on it. */
#ifndef UM_TEST_HTTP_CLIENT_H
#define UM_TEST_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct http_response {
    int status;               /* 0: no answer (refused, closed or timed out) */
    char *head;               /* status line and headers, NUL-terminated ("" when no answer) */
    char *body;               /* NUL-terminated; len bytes */
    size_t len;
};

/* Sends raw bytes (a whole request, possibly malformed) to 127.0.0.1:port and reads the answer
 * until the server closes (at most 64 MiB; timeout_s per read or write). */
struct http_response http_exchange(int port, const void *request, size_t len, int timeout_s);

/* A request with Host, the bearer token (when token is not NULL), Content-Length and
 * Connection: close; extra_headers are whole "Name: value\r\n" lines or NULL. */
struct http_response http_request(int port, const char *token, const char *method,
                                  const char *path, const char *extra_headers, const void *body,
                                  size_t body_len);

/* The value of header name (case-insensitive) copied into out, or NULL. */
const char *http_header(const struct http_response *r, const char *name, char *out,
                        size_t outlen);

/* multipart/form-data with one part named "file" per file (filename "img<i>.bin"). */
char *http_multipart(const char *boundary, const uint8_t *const *files, const size_t *sizes,
                     size_t n, size_t *len);

/* POST /api/analyses of one file. */
struct http_response http_upload(int port, const char *token, const uint8_t *data, size_t size);

void http_response_free(struct http_response *r);

#endif
