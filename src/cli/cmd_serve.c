/* unmask serve: the verification desk's web app and JSON API (src/serve). This file only parses
 * options, starts the server and waits for SIGINT/SIGTERM. */
#include <errno.h>
#include <pthread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/files.h"
#include "serve/routes.h"
#include "serve/server.h"

/* Exit statuses of this command beyond the shared ones. */
enum { EXIT_NEEDS_TOKEN = 3, EXIT_CANNOT_START = 4 };

static void usage_serve(FILE *f)
{
    fprintf(f,
            "Usage: unmask serve [OPTIONS]\n"
            "\n"
            "Runs the verification desk in your browser: drop images on the page, watch them\n"
            "being analysed, switch the evidence layers, keep notes, search past cases, export\n"
            "a case as the HTML report plus JSON. Everything stays on this machine.\n"
            "\n"
            "Options:\n"
            "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8750; port 0: any free)\n"
            "  --store DIR          the case store (default ./unmask-store): DIR/cases.sqlite\n"
            "                       and the uploaded bytes in DIR/objects/, named by SHA-256\n"
            "  --token T            every request must carry T (Authorization: Bearer T, or\n"
            "                       open http://HOST:PORT/?token=T once to get a cookie)\n"
            "  --token-file F       the same, the token read from the first line of F\n"
            "  --workers N          analyses at once (default: one per core)\n"
            "  --queue N            analyses waiting at most; beyond, uploads get 503\n"
            "                       (default 64)\n"
            "  --max-upload BYTES   one request's files together (default 104857600, 100 MiB)\n"
            "  --max-files-per-request N   (default 32)\n"
            "  --detectors LIST     run only these detectors (see 'unmask detectors'); stored\n"
            "                       with each analysis, like the limits, to reproduce it\n"
            "  -h, --help           this help\n"
            "\n"
            "API (JSON; errors are {\"error\":{\"code\",\"message\"}}):\n"
            "  POST /api/analyses              multipart, parts named file -> 202 {analyses:[..]}\n"
            "  GET  /api/analyses?q=&label=&from=&to=&limit=&offset=   cases, newest first\n"
            "  GET  /api/analyses/ID           status, result, notes\n"
            "  GET  /api/analyses/ID/image.png and /maps/NAME.png (a detector, or fused)\n"
            "  GET  /api/analyses/ID/report.html and /export (zip: report.html, analysis.json)\n"
            "  POST /api/analyses/ID/notes     {\"text\": \"...\"}\n"
            "  GET  /api/health\n"
            "\n"
            "Examples:\n"
            "  unmask serve                                  # then open http://127.0.0.1:8750/\n"
            "  curl -F file=@photo.jpg http://127.0.0.1:8750/api/analyses\n"
            "  unmask serve --listen 0.0.0.0:8750 --token-file ~/.unmask-token\n"
            "\n"
            "Security: loopback only unless a token is given (16 to 256 characters from\n"
            "[A-Za-z0-9._~+/=-]); without a token only loopback Host names are answered.\n"
            "Strict Content-Security-Policy; the file type is read from the bytes; no request\n"
            "path reaches the file system. Uploads are on disk (fsync'ed) before they are\n"
            "acknowledged, so a crash loses nothing acknowledged: unfinished analyses run again\n"
            "at the next start. SIGINT/SIGTERM stop gracefully: running analyses finish, queued\n"
            "ones wait in the store.\n"
            "\n"
            "Exit status: 0 stopped by a signal, 2 usage error, 3 a non-loopback address\n"
            "without a token, 4 the server could not start (store in use or unreadable, port\n"
            "taken).\n");
}

static int parse_number(const char *text, const char *option, unsigned long long min,
                        unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
        fprintf(stderr, "unmask serve: %s needs a whole number from %llu to %llu, not '%s'\n",
                option, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* ADDR:PORT, [IPv6]:PORT, or :PORT (loopback). host points into buf. */
static int parse_listen(const char *text, char *buf, size_t buflen, struct um_serve_config *c)
{
    const char *colon = strrchr(text, ':');
    unsigned long long port;
    if (!colon || strlen(text) >= buflen ||
        parse_number(colon + 1, "--listen's port", 0, 65535, &port) != 0)
        return -1;
    size_t n = (size_t)(colon - text);
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    c->host = buf[0] ? buf : "127.0.0.1";
    c->port = (unsigned)port;
    return 0;
}

/* The token goes into a cookie: keep to characters that need no quoting there. */
static int check_token(const char *t)
{
    size_t n = strlen(t);
    if (n < 16 || n > 256 || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789._~+/=-") != n) {
        fprintf(stderr, "unmask serve: the token must be 16 to 256 characters from "
                        "[A-Za-z0-9._~+/=-]\n");
        return -1;
    }
    return 0;
}

static int read_token_file(const char *path, char *buf, size_t buflen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "unmask serve: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fgets(buf, (int)buflen, f) != NULL;
    fclose(f);
    buf[ok ? strcspn(buf, "\r\n") : 0] = '\0';
    return check_token(buf);
}


struct serve_args {
    struct um_serve_config config;
    char host[256], token[300];
};

static int parse_serve(int argc, char **argv, struct serve_args *a)
{
    static const struct option longopts[] = {
        {"listen", required_argument, 0, 'l'},  {"store", required_argument, 0, 's'},
        {"token", required_argument, 0, 't'},   {"token-file", required_argument, 0, 'f'},
        {"workers", required_argument, 0, 'w'}, {"queue", required_argument, 0, 'q'},
        {"max-upload", required_argument, 0, 'u'},
        {"max-files-per-request", required_argument, 0, 'n'},
        {"detectors", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    um_serve_config_init(&a->config);
    unsigned long long v = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'l': bad = parse_listen(optarg, a->host, sizeof a->host, &a->config); break;
        case 's': a->config.store_dir = optarg; break;
        case 't':
            snprintf(a->token, sizeof a->token, "%s", optarg);
            bad = check_token(a->token);
            break;
        case 'f': bad = read_token_file(optarg, a->token, sizeof a->token); break;
        case 'w':
            bad = parse_number(optarg, "--workers", 1, 256, &v);
            a->config.workers = (int)v;
            break;
        case 'q':
            bad = parse_number(optarg, "--queue", 1, 1000000, &v);
            a->config.queue = (int64_t)v;
            break;
        case 'u':
            bad = parse_number(optarg, "--max-upload", 1, 1ull << 36, &v);
            a->config.max_upload = a->config.params.max_bytes = v;
            break;
        case 'n':
            bad = parse_number(optarg, "--max-files-per-request", 1, 1000, &v);
            a->config.max_files = (int)v;
            break;
        case 'd':
            bad = um_cli_check_detectors("serve", optarg);
            a->config.params.detectors = optarg;
            break;
        case 'h': usage_serve(stdout); return 1;
        default: usage_serve(stderr); return -1;
        }
        if (bad)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "unmask serve: unexpected argument '%s' (try 'unmask serve --help')\n",
                argv[optind]);
        return -1;
    }
    a->config.token = a->token[0] ? a->token : NULL;
    return 0;
}

int um_cmd_serve(int argc, char **argv)
{
    struct serve_args a;
    memset(&a, 0, sizeof a);
    int parsed = parse_serve(argc, argv, &a);
    if (parsed)
        return parsed > 0 ? EXIT_ALL_OK : EXIT_USAGE;
    if (!a.config.token && !um_serve_is_loopback(a.config.host)) {
        fprintf(stderr, "unmask serve: refusing to listen on %s without a token: anyone who "
                        "can reach it could read every case. Add --token or --token-file.\n",
                a.config.host);
        return EXIT_NEEDS_TOKEN;
    }
    /* Block the stop signals in every thread the server starts; this thread waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    char err[600];
    um_server *s;
    if (um_serve_start(&a.config, &s, err, sizeof err) != 0) {
        fprintf(stderr, "unmask serve: %s\n", err);
        return EXIT_CANNOT_START;
    }
    int v6 = strchr(a.config.host, ':') != NULL;
    fprintf(stderr, "unmask serve: listening on http://%s%s%s:%u/ (store %s)\n", v6 ? "[" : "",
            a.config.host, v6 ? "]" : "", um_serve_port(s), a.config.store_dir);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "unmask serve: stopping (finishing running analyses)\n");
    um_serve_stop(s);
    return EXIT_ALL_OK;
}
