/* unmask: the command-line shell over libunmask. It parses arguments, calls the library and
 * prints; it knows nothing about how any detector works. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "unmask.h"


static void usage_main(FILE *f)
{
    fprintf(f,
            "unmask %s - image forensics for verification desks\n"
            "\n"
            "Usage: unmask COMMAND [OPTIONS] ...\n"
            "\n"
            "Commands:\n"
            "  analyze FILE...     look for traces of manipulation; readable summary or JSON Lines\n"
            "  provenance FILE...  what the file says about its origin: Content Credentials (C2PA),\n"
            "                      EXIF, XMP, IPTC, AI-generator traces, the SD watermark\n"
            "  detectors           list the detectors, what each looks for and its limits\n"
            "  bench DIR           accuracy and speed tables on a dataset with ground-truth masks\n"
            "  report FILE -o OUT  one self-contained HTML report: verdict, evidence layers, provenance\n"
            "  serve               the web app: upload, evidence layers, case store, notes, export\n"
            "  campaign FILE -o D  coordinated accounts: who posts the same things within seconds\n"
            "  version             print the version\n"
            "\n"
            "Examples:\n"
            "  unmask analyze photo.jpg\n"
            "  unmask analyze --json --maps out/ *.jpg > results.jsonl\n"
            "  unmask analyze --json --detectors dq,grid photo.jpg | jq .verdict\n"
            "  unmask provenance --trust-anchors c2pa-trust-list.pem photo.jpg\n"
            "  unmask serve --store cases/            # then open http://127.0.0.1:8750/\n"
            "  unmask bench ../shared/data/casia1\n"
            "\n"
            "'unmask COMMAND --help' explains each command.\n",
            UM_VERSION);
}

static void usage_analyze(FILE *f)
{
    fprintf(f,
            "Usage: unmask analyze [OPTIONS] FILE...\n"
            "\n"
            "Analyses each image (JPEG, PNG, TIFF, WebP, HEIF/HEIC, AVIF; the format is read from\n"
            "the bytes, not the name; '-' reads standard input) and reports, per file, a verdict\n"
            "with a score in [0,1], a label and the reasons, and what each detector saw.\n"
            "\n"
            "Options:\n"
            "  --json              one JSON object per input on standard output (JSON Lines), in\n"
            "                      input order, also for inputs that fail (with an \"error\" object)\n"
            "  --maps DIR          write heatmaps: DIR/<name>.<detector>.png per applicable detector,\n"
            "                      DIR/<name>.fused.png (8-bit gray, input size, 255 = strongest\n"
            "                      evidence) and DIR/<name>.fused.overlay.png (colour, over the image)\n"
            "  --detectors LIST    run only these detectors (comma-separated; see 'unmask detectors')\n"
            "  --max-pixels N      refuse images with more than N pixels (default 250000000)\n"
            "  --max-bytes N       refuse files larger than N bytes (default 536870912)\n"
            "  --max-dimension N   refuse images wider or taller than N pixels (default 65500)\n"
            "  --threads N         worker threads (default: one per core)\n"
            "  --trust-anchors PEM CA certificates you trust to sign Content Credentials (C2PA);\n"
            "                      without them every signer is reported as untrusted\n"
            "  -h, --help          this help\n"
            "\n"
            "Labels: manipulated, likely-manipulated, ai-generated, no-evidence-found (which is NOT\n"
            "proof of authenticity), inconclusive (the methods cannot judge this image). The\n"
            "provenance the file carries (see 'unmask provenance --help') is part of the verdict.\n"
            "\n"
            "Exit status: 0 every input analysed, 1 some input failed (its record says why),\n"
            "2 usage error.\n");
}

static void usage_provenance(FILE *f)
{
    fprintf(f,
            "Usage: unmask provenance [OPTIONS] FILE...\n"
            "\n"
            "Reads what each file says about its own origin, without judging its pixels:\n"
            "  - Content Credentials (C2PA) embedded in JPEG, PNG, WebP, HEIF/AVIF, TIFF, GIF or\n"
            "    JPEG XL, or a sidecar .c2pa store: every manifest, its signer and time-stamp, what\n"
            "    was done (actions, including AI use), the ingredients, and the validation with\n"
            "    c2patool's status codes and one state: valid, invalid or trusted;\n"
            "  - a remote manifest named in XMP (reported, never fetched) and credentials that were\n"
            "    stripped from the file;\n"
            "  - EXIF (camera, software, dates, GPS, the thumbnail compared with the image), XMP\n"
            "    (edit history, IPTC DigitalSourceType), IPTC and Photoshop resources, the JPEG\n"
            "    encoder's fingerprint;\n"
            "  - AI-generator metadata (AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI, ...) and the\n"
            "    Stable Diffusion invisible watermark.\n"
            "Absence of provenance is common (platforms strip it) and is never proof of anything.\n"
            "\n"
            "Options:\n"
            "  --json              one JSON object per input (JSON Lines), with the full report\n"
            "  --trust-anchors PEM CA certificates you trust to sign Content Credentials, e.g. the\n"
            "                      C2PA trust list; without them signers are reported as untrusted\n"
            "                      (signingCredential.untrusted), never as invalid\n"
            "  --max-bytes N       refuse files larger than N bytes (default 536870912)\n"
            "  -h, --help          this help\n"
            "\n"
            "An invalid manifest is a finding, not an error: its record says so and the exit\n"
            "status stays 0. Exit status: 0 every input read, 1 some input failed (its record says\n"
            "why), 2 usage error.\n");
}

static int parse_count(const char *text, const char *option, unsigned long long max,
                       unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v == 0 || v > max) {
        fprintf(stderr, "unmask: %s needs a whole number from 1 to %llu, not '%s'\n", option, max,
                text);
        return -1;
    }
    *out = v;
    return 0;
}

/* The map file stem: the input's file name with its extension; a repeated name in one run
 * gets -2, -3, ... (contract: README "Maps"). */
static char *map_stem(const char *path, char ***seen, size_t *nseen)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!*base || strcmp(path, "-") == 0)
        base = "stdin";
    size_t count = 1;
    for (size_t i = 0; i < *nseen; i++)
        if (strcmp((*seen)[i], base) == 0)
            count++;
    char **grown = realloc(*seen, (*nseen + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    *seen = grown;
    grown[*nseen] = strdup(base);
    if (!grown[*nseen])
        return NULL;
    (*nseen)++;
    size_t n = strlen(base) + 24;
    char *stem = malloc(n);
    if (!stem)
        return NULL;
    if (count == 1)
        snprintf(stem, n, "%s", base);
    else
        snprintf(stem, n, "%s-%zu", base, count);
    return stem;
}

/* Standard input is read up to one byte past --max-bytes: the decoder then refuses an
 * oversized input with the same "limit" record as for a file. */
static um_result *analyze_stdin(const um_options *opt)
{
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf && len <= opt->max_bytes) {
        if (len == cap) {
            unsigned char *grown = realloc(buf, cap * 2);
            if (!grown) { /* never analyse a silently truncated input */
                free(buf);
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        size_t want = cap - len;
        if (want > opt->max_bytes + 1 - len)
            want = opt->max_bytes + 1 - len;
        size_t n = fread(buf + len, 1, want, stdin);
        len += n;
        if (n == 0)
            break;
    }
    if (!buf || ferror(stdin)) {
        free(buf);
        return NULL;
    }
    um_result *r = um_analyze_buffer(buf, len, "-", opt);
    free(buf);
    return r;
}

/* What one run of analyze or provenance was asked to do. */
struct run_request {
    um_options opt;
    int json;
    const char *maps_dir;
};


/* Parse analyze's or provenance's options into req; returns -1 after printing a usage error,
 * 1 after printing help, 0 to go on (optind then indexes the first input). */
static int parse_request(int argc, char **argv, int provenance, struct run_request *req)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'},         {"maps", required_argument, 0, 'm'},
        {"detectors", required_argument, 0, 'd'}, {"max-pixels", required_argument, 0, 'p'},
        {"max-bytes", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"max-dimension", required_argument, 0, 'D'},
        {"trust-anchors", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    void (*usage)(FILE *) = provenance ? usage_provenance : usage_analyze;
    const char *command = provenance ? "provenance" : "analyze";
    memset(req, 0, sizeof *req);
    um_options_init(&req->opt);
    req->opt.provenance_only = provenance;
    unsigned long long v;
    int c, which = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, &which)) != -1) {
        /* provenance runs no detectors and writes no maps: those options are analyze's */
        if (provenance && (c == 'm' || c == 'd' || c == 'p' || c == 'D' || c == 't')) {
            fprintf(stderr, "unmask provenance: --%s is an option of 'unmask analyze'\n",
                    longopts[which].name);
            return -1;
        }
        switch (c) {
        case 'j': req->json = 1; break;
        case 'm': req->maps_dir = optarg; break;
        case 'd': req->opt.detectors = optarg; break;
        case 'T': req->opt.trust_anchors = optarg; break;
        case 'p':
            if (parse_count(optarg, "--max-pixels", 1ull << 40, &v))
                return -1;
            req->opt.max_pixels = v;
            break;
        case 'b':
            if (parse_count(optarg, "--max-bytes", 1ull << 40, &v))
                return -1;
            req->opt.max_bytes = v;
            break;
        case 'D':
            if (parse_count(optarg, "--max-dimension", 1u << 30, &v))
                return -1;
            req->opt.max_dimension = (uint32_t)v;
            break;
        case 't':
            if (parse_count(optarg, "--threads", 256, &v))
                return -1;
            req->opt.threads = (int)v;
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "unmask %s: no input files (try 'unmask %s --help')\n", command, command);
        return -1;
    }
    if (req->opt.detectors && um_cli_check_detectors(command, req->opt.detectors))
        return -1;
    /* A trust list that cannot be used would turn every signer "untrusted": refuse early. */
    char why[400];
    if (req->opt.trust_anchors &&
        um_trust_anchors_check(req->opt.trust_anchors, why, sizeof why) != UM_OK) {
        fprintf(stderr, "unmask %s: --trust-anchors: %s\n", command, why);
        return -1;
    }
    if (req->maps_dir && um_make_dirs(req->maps_dir) != 0) {
        fprintf(stderr, "unmask analyze: cannot create the maps directory %s: %s\n",
                req->maps_dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void print_result(const um_result *r, const struct run_request *req, int more)
{
    char *out;
    if (req->opt.provenance_only)
        out = req->json ? um_result_provenance_json(r) : um_result_provenance_text(r);
    else
        out = req->json ? um_result_json(r) : um_result_text(r);
    if (out) {
        fputs(out, stdout);
        if (req->json)
            fputc('\n', stdout);
        else if (more)
            fputc('\n', stdout);
        fflush(stdout);
    }
    free(out);
}

static int run_inputs(int argc, char **argv, const struct run_request *req)
{
    int status = EXIT_ALL_OK;
    char **seen = NULL;
    size_t nseen = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        um_result *r = strcmp(path, "-") == 0 ? analyze_stdin(&req->opt)
                                              : um_analyze_file(path, &req->opt);
        if (!r) {
            fprintf(stderr, "unmask: %s: out of memory, or standard input could not be read\n",
                    path);
            status = EXIT_SOME_FAILED;
            break;
        }
        if (um_result_error(r, NULL) != UM_OK)
            status = EXIT_SOME_FAILED;
        if (req->maps_dir && um_result_error(r, NULL) == UM_OK) {
            char err[512];
            char *stem = map_stem(path, &seen, &nseen);
            if (!stem || um_result_write_maps(r, req->maps_dir, stem, err, sizeof err) != UM_OK) {
                fprintf(stderr, "unmask: %s: %s\n", path, stem ? err : "out of memory");
                status = EXIT_SOME_FAILED;
            }
            free(stem);
        }
        print_result(r, req, i + 1 < argc);
        um_result_free(r);
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    return status;
}

static int cmd_run(int argc, char **argv, int provenance)
{
    struct run_request req;
    int parsed = parse_request(argc, argv, provenance, &req);
    if (parsed)
        return parsed > 0 ? EXIT_ALL_OK : EXIT_USAGE;
    return run_inputs(argc, argv, &req);
}

static int cmd_detectors(int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 1 && !json) {
        fprintf(stderr, "Usage: unmask detectors [--json]\n");
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? EXIT_ALL_OK
                                                                            : EXIT_USAGE;
    }
    for (size_t i = 0; i < um_detector_count(); i++) {
        const um_detector_info *d = um_detector_at(i);
        if (json)
            printf("{\"name\":\"%s\",\"family\":\"%s\",\"needs_jpeg\":%s}\n", d->name, d->family,
                   d->needs_jpeg ? "true" : "false");
        else
            printf("%-16s [%s]%s\n    %s\n    Limits: %s\n", d->name, d->family,
                   d->needs_jpeg ? " (JPEG files only)" : "", d->summary, d->limits);
    }
    return EXIT_ALL_OK;
}

static int cmd_bench(int argc, char **argv)
{
    return um_bench_main(argc, argv);
}

static int cmd_analyze(int argc, char **argv)
{
    return cmd_run(argc, argv, 0);
}

static int cmd_provenance(int argc, char **argv)
{
    return cmd_run(argc, argv, 1);
}

/* Every command: argv[0] is the command's name, as for a program of its own. Commands that live
 * in their own file are declared in cli/commands.h. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"analyze", cmd_analyze},
    {"provenance", cmd_provenance},
    {"detectors", cmd_detectors},
    {"bench", cmd_bench},
    {"report", um_cmd_report},
    {"serve", um_cmd_serve},
    {"campaign", um_cmd_campaign},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("unmask %s (JSON schema %d)\n", UM_VERSION, UM_SCHEMA_VERSION);
        return EXIT_ALL_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage_main(stdout);
        return EXIT_ALL_OK;
    }
    fprintf(stderr, "unmask: unknown command '%s'\n\n", cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
