/*
 * identity_file.h - the per-OS half of the identity file: an atomic
 * replace (identity_posix.c: open/fsync/rename; identity_windows.c:
 * MoveFileEx with MOVEFILE_REPLACE_EXISTING).
 */
#ifndef LP_CTRL_IDENTITY_FILE_H
#define LP_CTRL_IDENTITY_FILE_H

#include <stddef.h>

/* Writes data to tmp (created afresh, owner-only) and renames it over path.
 * 0 or LP_ERR_IO (errno kept); tmp is removed on failure. */
int lp_ctrl_identity_write_atomic(const char *path, const char *tmp, const char *data, size_t len);

#endif /* LP_CTRL_IDENTITY_FILE_H */
