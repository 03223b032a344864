/*
 * roomfile_int.h - the room file's text (roomfile.c, portable) and the
 * per-OS file handling behind lp_room_file_open (roomfile_posix.c,
 * roomfile_unsupported.c). Internal to lib/room.
 */
#ifndef LP_ROOM_ROOMFILE_INT_H
#define LP_ROOM_ROOMFILE_INT_H

#include <stddef.h>

#include "lp_room.h"

/* Largest room file accepted. */
#define LP_ROOM_FILE_MAX 4096

/* Parses the text (len bytes, need not be NUL-terminated) into *out and
 * derives host_pub. 0, or LP_ERR_INVAL with a reason (no path, no secret)
 * in why; LP_ERR_CRYPTO. */
int lp_room_file_text_parse(const char *text, size_t len, struct lp_room_file *out, char *why,
                            size_t whylen);
/* The text of f into out (NUL-terminated); its length or LP_ERR_NOBUF. */
int lp_room_file_text_format(const struct lp_room_file *f, char *out, size_t cap);
/* A new room: secret and host seed from the CSPRNG, host_pub derived. */
int lp_room_file_generate(struct lp_room_file *out);

#endif /* LP_ROOM_ROOMFILE_INT_H */
