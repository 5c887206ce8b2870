/* `unmask campaign simulate`'s generator: synthetic posts with planted coordinated groups
 * (issue 7, item 5), for recovery tests and benchmarks. The model is documented in simulate.c;
 * the command (options, files, messages) is src/cli/cmd_campaign_simulate.c. */
#ifndef UM_CAMPAIGN_SIMULATE_H
#define UM_CAMPAIGN_SIMULATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Kinds of object a simulated post can carry (CSV columns object_id, url, hashtag, text,
 * image). */
enum { CM_SIM_SHARE, CM_SIM_LINK, CM_SIM_HASHTAG, CM_SIM_TEXT, CM_SIM_IMAGE, CM_SIM_NKINDS };

#define CM_SIM_AUTO UINT64_MAX /* a value derived from posts (see cm_sim_params) */
#define CM_SIM_INVALID (-2)    /* cm_simulate: the parameters fail cm_sim_check */

struct cm_sim_params {
    uint64_t posts;       /* rows (1 .. 10^10; required) */
    uint64_t accounts;    /* CM_SIM_AUTO: max(posts / 20, 1000) */
    uint64_t groups;      /* planted groups (10) */
    uint64_t group_size;  /* accounts per group (8) */
    uint64_t events;      /* coordination events per group (12) */
    uint64_t window;      /* seconds an event's posts spread over (60) */
    uint64_t days;        /* period from 2024-01-01 (30) */
    uint64_t hot_objects; /* objects shared by very many accounts (2) */
    uint64_t hot_shares;  /* shares of each; CM_SIM_AUTO: min(100000, posts / 100) */
    uint64_t seed;        /* equal parameters and seed give equal bytes (1) */
    unsigned kinds;       /* 1u << CM_SIM_*: share, link, text by default */
};

/* The defaults above, posts = 0 (to be set). */
void cm_sim_params_init(struct cm_sim_params *p);
/* "share,link,hashtag,text,image" -> mask. 0, or -1 (unknown name or empty list). */
int cm_sim_kinds_parse(const char *list, unsigned *mask);
/* Resolves the CM_SIM_AUTO values and checks ranges and consistency (e.g. planted rows at most
 * half of the posts). 0, or -1 with the reason in err. */
int cm_sim_check(struct cm_sim_params *p, char *err, size_t errlen);
/* Writes the posts as CSV (content_id,account_id,timestamp,object_id,url,hashtag,text,image)
 * to posts and, when truth is not NULL, account_id,group_id of every planted account to truth.
 * The streams are written, never flushed or closed. 0; CM_SIM_INVALID (err says why) or -1
 * (out of memory, a write failed) with err. */
int cm_simulate(const struct cm_sim_params *p, FILE *posts, FILE *truth, char *err,
                size_t errlen);

#endif
