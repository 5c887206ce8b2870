/* Every size limit of unmask, in one place (defaults of um_options and hard caps). */
#ifndef UM_IO_LIMITS_H
#define UM_IO_LIMITS_H

#define UM_DEFAULT_MAX_BYTES (512ull << 20)    /* 512 MiB per input file */
#define UM_DEFAULT_MAX_PIXELS 250000000ull     /* 250 megapixels */
#define UM_DEFAULT_MAX_DIMENSION 65500u        /* JPEG's own ceiling; same for every format */
#define UM_MAX_JPEG_SEGMENTS 10000             /* markers before the first scan */
#define UM_MAX_JPEG_SCANS 1000                 /* progressive scans (libjpeg-turbo's own cap is
                                                  not on by default) */
#define UM_MIN_DIMENSION 1

#endif
