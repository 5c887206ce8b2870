/* Writing CSV (RFC 4180), shared by the benchmark's tables and the campaign outputs. */
#ifndef UM_CORE_CSV_H
#define UM_CORE_CSV_H

#include <stdio.h>

/* One field, quoted (with quotes doubled) when it holds a comma, a quote or a line break. */
void um_csv_field(FILE *f, const char *s);

#endif
