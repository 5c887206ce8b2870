/* unmask report: one image in, one self-contained HTML report out (um_result_report_html). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/files.h"
#include "unmask.h"

/* Beyond the shared statuses: the report could not be written (disk, permissions, memory). */
enum { EXIT_REPORT_NOT_WRITTEN = 3 };

static void usage_report(FILE *f)
{
    fprintf(f,
            "Usage: unmask report [OPTIONS] FILE -o REPORT.html\n"
            "\n"
            "Analyses one image and writes a single HTML file that needs nothing else: no network,\n"
            "no other files. Open it in any browser, mail it, archive it. It shows:\n"
            "  - the verdict in plain words, the score, its false-alarm rate and the reasons;\n"
            "  - the image with one evidence layer per detector and the fused map: switch each\n"
            "    on or off, set its opacity, compare side by side, zoom (wheel, +/-) and pan (drag);\n"
            "  - the provenance: Content Credentials (C2PA) state and signer, AI markers, the\n"
            "    edit history, EXIF/XMP/IPTC facts;\n"
            "  - what each detector saw, or why it could not judge;\n"
            "  - the SHA-256 of the analysed bytes, the tool version and the time.\n"
            "Printing it (or 'Save as PDF') gives a paper exhibit: image, verdict, fused overlay,\n"
            "provenance and hash, without the controls.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE   where to write the report (required); written to a temporary\n"
            "                      file and renamed, so FILE is never left half-written\n"
            "  --detectors LIST    run only these detectors (comma-separated; see 'unmask detectors')\n"
            "  --trust-anchors PEM CA certificates you trust to sign Content Credentials\n"
            "  --max-side N        longest side, in pixels, of the embedded image and maps\n"
            "                      (default 2048; smaller makes a smaller file)\n"
            "  -h, --help          this help\n"
            "\n"
            "Examples:\n"
            "  unmask report photo.jpg -o photo-report.html\n"
            "  unmask report --max-side 1024 --detectors grid,ghost,ela photo.jpg -o small.html\n"
            "\n"
            "Exit status: 0 report written, 1 the image could not be analysed (nothing written),\n"
            "2 usage error, 3 the report could not be written.\n");
}


/* Temp file in the target's directory (same file system), fsync, rename: a reader sees the old
 * file or the whole new one. */
static int write_atomically(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int rc = fchmod(fd, 0644);
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -1;
        else
            done += (size_t)w;
    }
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    int saved = errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    errno = saved;
    return rc;
}

struct report_request {
    um_options opt;
    const char *output;
    um_report_options report;
};

/* -1 usage error (printed), 1 help printed, 0 go on (argv[optind] is the input). */
static int parse_report(int argc, char **argv, struct report_request *req)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'},     {"detectors", required_argument, 0, 'd'},
        {"trust-anchors", required_argument, 0, 'T'}, {"max-side", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    um_options_init(&req->opt);
    um_report_options_init(&req->report);
    req->output = NULL;
    char *end;
    long side;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': req->output = optarg; break;
        case 'd': req->opt.detectors = optarg; break;
        case 'T': req->opt.trust_anchors = optarg; break;
        case 's':
            errno = 0;
            side = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || side < 16 || side > 16384) {
                fprintf(stderr, "unmask report: --max-side needs a number from 16 to 16384, "
                                "not '%s'\n", optarg);
                return -1;
            }
            req->report.max_side = (int)side;
            break;
        case 'h': usage_report(stdout); return 1;
        default: usage_report(stderr); return -1;
        }
    }
    if (optind != argc - 1 || !req->output) {
        fprintf(stderr, "unmask report: give one input FILE and -o REPORT.html "
                        "(try 'unmask report --help')\n");
        return -1;
    }
    if (req->opt.detectors && um_cli_check_detectors("report", req->opt.detectors) != 0)
        return -1;
    char why[400];
    if (req->opt.trust_anchors &&
        um_trust_anchors_check(req->opt.trust_anchors, why, sizeof why) != UM_OK) {
        fprintf(stderr, "unmask report: --trust-anchors: %s\n", why);
        return -1;
    }
    return 0;
}

int um_cmd_report(int argc, char **argv)
{
    struct report_request req;
    int parsed = parse_report(argc, argv, &req);
    if (parsed)
        return parsed > 0 ? EXIT_ALL_OK : EXIT_USAGE;
    const char *input = argv[optind];
    um_result *r = um_analyze_file(input, &req.opt);
    if (!r) {
        fprintf(stderr, "unmask report: %s: out of memory\n", input);
        return EXIT_REPORT_NOT_WRITTEN;
    }
    const char *message;
    if (um_result_error(r, &message) != UM_OK) {
        fprintf(stderr, "unmask report: %s: %s (%s); no report written\n", input, message,
                um_error_name(um_result_error(r, NULL)));
        um_result_free(r);
        return EXIT_SOME_FAILED;
    }
    size_t len = 0;
    char *html = um_result_report_html(r, &req.report, &len);
    um_result_free(r);
    if (!html) {
        fprintf(stderr, "unmask report: out of memory while making the report\n");
        return EXIT_REPORT_NOT_WRITTEN;
    }
    int rc = write_atomically(req.output, html, len);
    free(html);
    if (rc != 0) {
        fprintf(stderr, "unmask report: cannot write %s: %s\n", req.output, strerror(errno));
        return EXIT_REPORT_NOT_WRITTEN;
    }
    return EXIT_ALL_OK;
}
