/* unmask campaign simulate: options, files and messages around the generator of
 * campaign/simulate.h (synthetic posts with planted coordinated groups). */
#include "cli/cmd_campaign_simulate.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/simulate.h"
#include "cli/commands.h"

static void usage(FILE *f)
{
    fputs("usage: unmask campaign simulate --posts N -o POSTS.csv [--truth TRUTH.csv]\n"
          "         [--accounts A] [--groups G] [--group-size S] [--events E] [--window W]\n"
          "         [--days D] [--hot-objects H] [--hot-shares M] [--seed X]\n"
          "         [--kinds share,link,hashtag,text,image]\n"
          "Synthetic posts with planted coordinated groups (CSV: content_id,account_id,\n"
          "timestamp,object_id,url,hashtag,text,image; read it with 'unmask campaign FILE\n"
          "--preset simulate'). -o - writes to standard output. Defaults: accounts N/20 (at\n"
          "least 1000), 10 groups of 8 accounts, 12 events per group, window 60 s, 30 days, 2\n"
          "hot objects of min(100000, N/100) shares, seed 1, kinds share,link,text.\n"
          "  unmask campaign simulate --posts 1000000 -o posts.csv --truth truth.csv\n"
          "Exit status: 0 written, 1 a file could not be written, 2 usage error.\n",
          f);
}

struct sim_request {
    struct cm_sim_params p;
    const char *out, *truth;
    int posts_given;
};

struct num_opt {
    const char *name;
    size_t offset;
};

static const struct num_opt num_opts[] = {
    {"--posts", offsetof(struct cm_sim_params, posts)},
    {"--accounts", offsetof(struct cm_sim_params, accounts)},
    {"--groups", offsetof(struct cm_sim_params, groups)},
    {"--group-size", offsetof(struct cm_sim_params, group_size)},
    {"--events", offsetof(struct cm_sim_params, events)},
    {"--window", offsetof(struct cm_sim_params, window)},
    {"--days", offsetof(struct cm_sim_params, days)},
    {"--hot-objects", offsetof(struct cm_sim_params, hot_objects)},
    {"--hot-shares", offsetof(struct cm_sim_params, hot_shares)},
    {"--seed", offsetof(struct cm_sim_params, seed)},
};

/* A whole number below CM_SIM_AUTO (ranges are checked by cm_sim_check). */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v >= CM_SIM_AUTO)
        return -1;
    *out = v;
    return 0;
}

static int set_number(struct sim_request *r, const char *name, size_t nlen, const char *val)
{
    for (size_t k = 0; k < sizeof num_opts / sizeof num_opts[0]; k++) {
        const struct num_opt *no = &num_opts[k];
        if (strlen(no->name) != nlen || strncmp(name, no->name, nlen) != 0)
            continue;
        if (parse_u64(val, (uint64_t *)(void *)((char *)&r->p + no->offset))) {
            fprintf(stderr, "unmask campaign simulate: %s needs a whole number, not '%s'\n",
                    no->name, val);
            return -1;
        }
        r->posts_given |= k == 0;
        return 0;
    }
    fprintf(stderr, "unmask campaign simulate: unknown option '%.*s'\n", (int)nlen, name);
    return -1;
}

/* One option (with its value in argv[*i + 1] or after '='). 0, 1 = help, -1 = error. */
static int parse_option(int argc, char **argv, int *i, struct sim_request *r)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return 1;
    const char *val = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!val) {
        fprintf(stderr, "unmask campaign simulate: %s needs a value\n", arg);
        return -1;
    }
    if ((nlen == 2 && strncmp(arg, "-o", 2) == 0) || (nlen == 8 && !strncmp(arg, "--output", 8))) {
        r->out = val;
        return 0;
    }
    if (nlen == 7 && strncmp(arg, "--truth", 7) == 0) {
        r->truth = val;
        return 0;
    }
    if (nlen == 7 && strncmp(arg, "--kinds", 7) == 0) {
        if (cm_sim_kinds_parse(val, &r->p.kinds) == 0)
            return 0;
        fprintf(stderr, "unmask campaign simulate: bad --kinds '%s' (share,link,hashtag,"
                        "text,image)\n", val);
        return -1;
    }
    return set_number(r, arg, nlen, val);
}

/* 0 go on, 1 help, -1 usage error (printed). */
static int parse_args(int argc, char **argv, struct sim_request *r)
{
    memset(r, 0, sizeof *r);
    cm_sim_params_init(&r->p);
    for (int i = 1; i < argc; i++) {
        int rc = parse_option(argc, argv, &i, r);
        if (rc != 0)
            return rc;
    }
    char err[200];
    if (!r->posts_given || !r->out) {
        fputs("unmask campaign simulate: --posts and -o are required\n", stderr);
        return -1;
    }
    if (cm_sim_check(&r->p, err, sizeof err)) {
        fprintf(stderr, "unmask campaign simulate: %s\n", err);
        return -1;
    }
    return 0;
}

static FILE *open_output(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f)
        fprintf(stderr, "unmask campaign simulate: cannot write %s: %s\n", path,
                strerror(errno));
    return f;
}

/* fclose (or fflush for standard output); 0 or -1 with a message. */
static int close_output(FILE *f, const char *path)
{
    if (!f)
        return 0;
    int bad = ferror(f);
    if ((f == stdout ? fflush(f) : fclose(f)) != 0 || bad) {
        fprintf(stderr, "unmask campaign simulate: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int um_cmd_campaign_simulate(int argc, char **argv)
{
    struct sim_request r;
    int parsed = parse_args(argc, argv, &r);
    if (parsed > 0) {
        usage(stdout);
        return EXIT_ALL_OK;
    }
    if (parsed < 0) {
        fputs("try 'unmask campaign simulate --help'\n", stderr);
        return EXIT_USAGE;
    }
    FILE *posts = open_output(r.out);
    FILE *truth = posts && r.truth ? open_output(r.truth) : NULL;
    if (!posts || (r.truth && !truth)) {
        close_output(posts, r.out);
        return EXIT_SOME_FAILED;
    }
    char err[200];
    int rc = cm_simulate(&r.p, posts, truth, err, sizeof err);
    if (rc)
        fprintf(stderr, "unmask campaign simulate: %s\n", err);
    int closed = close_output(posts, r.out) | close_output(truth, r.truth);
    return rc || closed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}
