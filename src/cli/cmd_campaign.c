/* unmask campaign: coordinated-sharing networks from a table of posts (issue 7). The pipeline
 * lives in src/campaign (campaign.h); this file parses options, runs it (or its MPI form) and
 * prints. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "campaign/mpi.h"
#include "cli/cmd_campaign_simulate.h"
#include "cli/commands.h"
#include "cli/files.h"

enum { EXIT_OUTPUT_FAILED = 3 };

static void usage_campaign(FILE *f)
{
    fprintf(f,
        "Usage: unmask campaign FILE -o DIR [OPTIONS]\n"
        "       unmask campaign simulate [OPTIONS]   (synthetic posts; see its --help)\n"
        "\n"
        "Finds accounts that repeatedly post the same object (a retweeted post, a link, a\n"
        "hashtag, a text, an image) within seconds of each other, as CooRTweet defines it: a\n"
        "pair is two posts of one object by two different accounts with |dt| <= window; the\n"
        "edge weight of two accounts is their number of pairs. FILE is CSV (with a header) or\n"
        "JSON Lines ('-' reads standard input).\n"
        "\n"
        "Writes DIR/edges.csv and accounts.csv (every edge and account, each flagged\n"
        "coordinated or not), groups.csv (components and communities of the coordinated\n"
        "edges), network.graphml, network.gexf and summary.json, and prints a readable\n"
        "summary.\n"
        "\n"
        "Options:\n"
        "  -o, --output DIR           output directory (created if missing)\n"
        "  --window S                 seconds between two posts of a pair, inclusive (60)\n"
        "  --min-participation N      accounts need N rows of a kind, and N co-shared posts\n"
        "                             (CooRTweet's min_participation; 2)\n"
        "  --kinds LIST               share,link,hashtag,text,near-text,image,domain (default:\n"
        "                             the kinds the columns or preset provide, without texts\n"
        "                             except for the simulate preset's near-text)\n"
        "  --edge-weight-percentile Q edges with weight above the Q quantile of all weights\n"
        "                             (R type 7) are coordinated: groups and the summary use\n"
        "                             them, the tables flag them (CooRTweet's edge_weight;\n"
        "                             0.5; 0 = every edge is coordinated)\n"
        "  --weight coortweet|qut     qut: directed weight u->v = distinct posts of u matched\n"
        "                             by v, kept when >= N (QUT coordination-network-toolkit)\n"
        "  --loops                    with --weight qut: keep self loops in the output\n"
        "  --preset NAME              coortweet (object_id,account_id,content_id,timestamp),\n"
        "                             qut (the QUT toolkit's CSV), twitter-v2 (API v2 JSON\n"
        "                             Lines), german-wide (url_id,hashtag_id,domain_id,phash_id),\n"
        "                             simulate ('unmask campaign simulate' output: share, link,\n"
        "                             near-text)\n"
        "  --account COL --time COL --object COL --content COL --text COL --url COL\n"
        "  --hashtag COL --image COL --domain COL\n"
        "                             column names (JSON: keys or dotted paths); override the\n"
        "                             preset's ('' removes one; without a content column each\n"
        "                             row is its own post)\n"
        "  --format csv|jsonl         input format (default: JSON Lines if it starts with '{')\n"
        "  --image-distance D         image columns hold hex perceptual hashes: hashes within\n"
        "                             Hamming distance D are one image\n"
        "  --near-jaccard J           near-text: word-shingle Jaccard needed (0.6)\n"
        "  --unique                   count a repeated row (same object, account, post and\n"
        "                             time) once, as CooRTweet's vignette prepares data\n"
        "  --strict                   a malformed row is fatal (default: counted, skipped,\n"
        "                             reported with its line number)\n"
        "  --threads N                worker threads (default: one per core)\n"
        "  --max-pairs N              stop when one kind has more than N candidate pairs\n"
        "                             (default 100000000, about 2.4 GB)\n"
        "  --mpi                      run under mpirun: ranks split the objects\n"
        "  -h, --help                 this help\n"
        "\n"
        "Examples:\n"
        "  unmask campaign posts.csv --window 60 --min-participation 2 -o net/\n"
        "  unmask campaign tweets.jsonl --preset twitter-v2 --kinds share,link,near-text -o net/\n"
        "  mpirun -np 4 unmask campaign posts.csv --mpi -o net/\n"
        "\n"
        "Exit status: 0 done (malformed rows are reported on standard error), 1 the input could\n"
        "not be read (or a malformed row under --strict), 2 usage error, 3 outputs not written.\n");
}

struct campaign_request {
    struct cm_ingest_params in;
    struct cm_params p;
    const char *input, *outdir;
    int kinds_given, mpi;
};

static int parse_number(const char *text, const char *option, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "unmask campaign: %s needs a number from %.10g to %.10g, not '%s'\n",
                option, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_whole(const char *text, const char *option, double lo, double hi, double *out)
{
    if (parse_number(text, option, lo, hi, out))
        return -1;
    if (*out != (double)(long long)*out) {
        fprintf(stderr, "unmask campaign: %s needs a whole number, not '%s'\n", option, text);
        return -1;
    }
    return 0;
}

static int set_option(struct campaign_request *r, int c, const char *arg)
{
    double v;
    char err[200];
    struct cm_columns *col = &r->in.col;
    switch (c) {
    case 'o': r->outdir = arg; return 0;
    case 'w':
        if (parse_whole(arg, "--window", 0, 2147483647.0, &v))
            return -1;
        r->p.window = (int64_t)v;
        return 0;
    case 'm':
        if (parse_whole(arg, "--min-participation", 1, 4294967295.0, &v))
            return -1;
        r->p.min_participation = (uint32_t)v;
        return 0;
    case 'k':
        if (cm_kinds_parse(arg, &r->p.kinds, err, sizeof err)) {
            fprintf(stderr, "unmask campaign: --kinds: %s\n", err);
            return -1;
        }
        r->kinds_given = 1;
        return 0;
    case 'q': return parse_number(arg, "--edge-weight-percentile", 0, 1, &r->p.percentile);
    case 'W':
        if (strcmp(arg, "coortweet") && strcmp(arg, "qut")) {
            fprintf(stderr, "unmask campaign: --weight is coortweet or qut, not '%s'\n", arg);
            return -1;
        }
        r->p.weight = strcmp(arg, "qut") ? CM_WEIGHT_COORTWEET : CM_WEIGHT_QUT;
        return 0;
    case 'L': r->p.qut_loops = 1; return 0;
    case 'P':
        if (cm_ingest_preset(&r->in, arg)) {
            fprintf(stderr, "unmask campaign: unknown preset '%s' (coortweet, qut, twitter-v2, "
                            "german-wide, simulate)\n", arg);
            return -1;
        }
        return 0;
    /* an empty name unsets a preset's column (e.g. --content '' when posts have no id) */
    case 'a': col->account = *arg ? arg : NULL; return 0;
    case 't': col->time = *arg ? arg : NULL; return 0;
    case 'b': col->object = *arg ? arg : NULL; return 0;
    case 'c': col->content = *arg ? arg : NULL; return 0;
    case 'x': col->text = *arg ? arg : NULL; return 0;
    case 'u': col->url = *arg ? arg : NULL; return 0;
    case 'g': col->hashtag = *arg ? arg : NULL; return 0;
    case 'i': col->image = *arg ? arg : NULL; return 0;
    case 'd': col->domain = *arg ? arg : NULL; return 0;
    case 'F':
        if (strcmp(arg, "csv") && strcmp(arg, "jsonl")) {
            fprintf(stderr, "unmask campaign: --format is csv or jsonl, not '%s'\n", arg);
            return -1;
        }
        r->in.format = strcmp(arg, "csv") ? CM_FORMAT_JSONL : CM_FORMAT_CSV;
        return 0;
    case 'D':
        if (parse_whole(arg, "--image-distance", 0, 256, &v))
            return -1;
        r->in.image_distance = (int)v;
        return 0;
    case 'J': return parse_number(arg, "--near-jaccard", 0.01, 1, &r->in.neardup.jaccard);
    case 'S': r->in.strict = 1; return 0;
    case 'T':
        if (parse_whole(arg, "--threads", 1, 256, &v))
            return -1;
        r->p.threads = r->in.neardup.threads = (int)v;
        return 0;
    case 'M': r->mpi = 1; return 0;
    case 'U': r->p.unique = 1; return 0;
    case 'X':
        if (parse_whole(arg, "--max-pairs", 1, 1e15, &v))
            return -1;
        r->p.max_pairs = (uint64_t)v;
        return 0;
    default: return -1;
    }
}

/* A chosen kind without a column to read it from is a usage error (Twitter v2 JSON has its
 * own places for objects, links and hashtags). */
static int missing_column(const struct campaign_request *r)
{
    static const char *const option[CM_KIND_COUNT] = {"--object", "--url", "--hashtag",
                                                      "--text", "--text", "--image",
                                                      "--domain"};
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if ((r->p.kinds & (1u << k)) && !r->in.twitter_v2 && !cm_kind_column(&r->in.col, k)) {
            fprintf(stderr, "unmask campaign: kind '%s' needs a column: give %s COL (or a "
                            "--preset that has one)\n", cm_kind_name(k), option[k]);
            return 1;
        }
    return 0;
}

/* -1 usage error (printed), 1 help printed, 0 go on. */
static int parse_campaign(int argc, char **argv, struct campaign_request *r)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"window", required_argument, 0, 'w'},
        {"min-participation", required_argument, 0, 'm'}, {"kinds", required_argument, 0, 'k'},
        {"edge-weight-percentile", required_argument, 0, 'q'},
        {"weight", required_argument, 0, 'W'}, {"loops", no_argument, 0, 'L'},
        {"preset", required_argument, 0, 'P'}, {"account", required_argument, 0, 'a'},
        {"time", required_argument, 0, 't'}, {"object", required_argument, 0, 'b'},
        {"content", required_argument, 0, 'c'}, {"text", required_argument, 0, 'x'},
        {"url", required_argument, 0, 'u'}, {"hashtag", required_argument, 0, 'g'},
        {"image", required_argument, 0, 'i'}, {"domain", required_argument, 0, 'd'},
        {"format", required_argument, 0, 'F'}, {"image-distance", required_argument, 0, 'D'},
        {"near-jaccard", required_argument, 0, 'J'}, {"strict", no_argument, 0, 'S'},
        {"threads", required_argument, 0, 'T'}, {"mpi", no_argument, 0, 'M'},
        {"max-pairs", required_argument, 0, 'X'}, {"unique", no_argument, 0, 'U'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    memset(r, 0, sizeof *r);
    cm_ingest_params_init(&r->in);
    cm_params_init(&r->p);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage_campaign(stdout);
            return 1;
        }
        if (c == '?' || set_option(r, c, optarg)) {
            if (c == '?')
                fprintf(stderr, "Try 'unmask campaign --help'.\n");
            return -1;
        }
    }
    if (optind != argc - 1 || !r->outdir) {
        fprintf(stderr, "unmask campaign: give one input FILE and -o DIR (try 'unmask campaign "
                        "--help')\n");
        return -1;
    }
    r->input = argv[optind];
    if (!r->kinds_given)
        r->p.kinds = cm_default_kinds(&r->in);
    if (!r->p.kinds) {
        fprintf(stderr, "unmask campaign: no kind of object to compare: give --kinds and the "
                        "column for it\n");
        return -1;
    }
    if (missing_column(r))
        return -1;
    if (r->p.qut_loops && r->p.weight != CM_WEIGHT_QUT) {
        fprintf(stderr, "unmask campaign: --loops needs --weight qut\n");
        return -1;
    }
    r->in.kinds = r->p.kinds;
    return 0;
}

static int read_input(const struct campaign_request *r, struct cm_dataset *d, int quiet)
{
    char err[512];
    FILE *f = strcmp(r->input, "-") ? fopen(r->input, "rb") : stdin;
    if (!f) {
        if (!quiet)
            fprintf(stderr, "unmask campaign: cannot open %s: %s\n", r->input, strerror(errno));
        return -1;
    }
    int rc = cm_ingest_stream(f, &r->in, d, err, sizeof err);
    if (f != stdin)
        fclose(f);
    if (rc && !quiet)
        fprintf(stderr, "unmask campaign: %s: %s\n", r->input, err);
    return rc;
}

static void report_malformed(const struct campaign_request *r, const struct cm_dataset *d)
{
    if (!d->bad_rows)
        return;
    fprintf(stderr, "unmask campaign: %s: %llu malformed rows skipped:\n", r->input,
            (unsigned long long)d->bad_rows);
    for (size_t i = 0; i < d->nbad; i++)
        fprintf(stderr, "  line %llu: %s\n", (unsigned long long)d->bad[i].line, d->bad[i].why);
    if (d->bad_rows > d->nbad)
        fprintf(stderr, "  ... (summary.json counts them all)\n");
}

/* Network, outputs and the summary from the pairs (rank 0 only under MPI). */
static int finish(const struct campaign_request *r, const struct cm_dataset *d,
                  struct cm_pairs *pairs, const uint64_t counts[CM_KIND_COUNT])
{
    char err[512];
    struct cm_network net;
    report_malformed(r, d);
    if (cm_network_build(d, &r->p, pairs, &net, err, sizeof err)) {
        fprintf(stderr, "unmask campaign: %s\n", err);
        cm_network_free(&net);
        return EXIT_SOME_FAILED;
    }
    memcpy(net.pair_counts, counts, sizeof net.pair_counts);
    int status = EXIT_ALL_OK;
    if (um_make_dirs(r->outdir)) {
        fprintf(stderr, "unmask campaign: cannot create %s: %s\n", r->outdir, strerror(errno));
        status = EXIT_OUTPUT_FAILED;
    } else if (cm_write_outputs(d, &r->p, &net, r->outdir, err, sizeof err)) {
        fprintf(stderr, "unmask campaign: %s\n", err);
        status = EXIT_OUTPUT_FAILED;
    } else {
        char *text = cm_summary_text(d, &r->p, &net);
        if (text)
            fputs(text, stdout);
        free(text);
    }
    cm_network_free(&net);
    return status;
}

static int run_single(const struct campaign_request *r)
{
    struct cm_dataset d;
    memset(&d, 0, sizeof d);
    if (read_input(r, &d, 0)) {
        cm_dataset_free(&d);
        return EXIT_SOME_FAILED;
    }
    struct cm_pairs pairs = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    int status;
    int rc = cm_find_pairs(&d, &r->p, &pairs, counts);
    if (rc == CM_TOO_MANY_PAIRS) {
        fprintf(stderr, "unmask campaign: more than %llu candidate pairs of one kind: use a "
                        "smaller --window or a larger --max-pairs\n",
                (unsigned long long)r->p.max_pairs);
        status = EXIT_SOME_FAILED;
    } else if (rc) {
        fprintf(stderr, "unmask campaign: out of memory while pairing posts\n");
        status = EXIT_SOME_FAILED;
    } else {
        status = finish(r, &d, &pairs, counts);
    }
    cm_pairs_free(&pairs);
    cm_dataset_free(&d);
    return status;
}

/* Every rank reads the whole file (the same ids everywhere); ranks pair their own objects and
 * rank 0 writes the outputs (mpi.h). */
static int run_mpi(struct campaign_request *r, int argc, char **argv)
{
    char err[512];
    int rank = 0, size = 1;
    if (!cm_mpi_available()) {
        fprintf(stderr, "unmask campaign: --mpi needs to be started by mpirun\n");
        return EXIT_USAGE;
    }
    if (cm_mpi_init(&argc, &argv, &rank, &size, err, sizeof err)) {
        fprintf(stderr, "unmask campaign: %s\n", err);
        return EXIT_SOME_FAILED;
    }
    struct cm_dataset d;
    memset(&d, 0, sizeof d);
    int status = EXIT_SOME_FAILED;
    if (cm_mpi_all_ok(read_input(r, &d, rank != 0) == 0)) {
        struct cm_pairs pairs = {0};
        uint64_t counts[CM_KIND_COUNT] = {0};
        if (cm_mpi_find_pairs(&d, &r->p, &pairs, counts, err, sizeof err))
            fprintf(stderr, "unmask campaign: %s\n", err);
        else
            status = rank == 0 ? finish(r, &d, &pairs, counts) : EXIT_ALL_OK;
        cm_pairs_free(&pairs);
    }
    cm_dataset_free(&d);
    cm_mpi_finalize();
    return status;
}

int um_cmd_campaign(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "simulate") == 0)
        return um_cmd_campaign_simulate(argc - 1, argv + 1);
    struct campaign_request r;
    int parsed = parse_campaign(argc, argv, &r);
    if (parsed)
        return parsed > 0 ? EXIT_ALL_OK : EXIT_USAGE;
    return r.mpi ? run_mpi(&r, argc, argv) : run_single(&r);
}
