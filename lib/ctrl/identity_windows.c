/*
 * identity_windows.c - atomic replace of the identity file on Windows:
 * MoveFileEx(MOVEFILE_REPLACE_EXISTING) is the rename-over of Win32.
 */
#include "lp_base.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <sys/stat.h>
#include <windows.h>

#include "identity_file.h"

int lp_ctrl_identity_write_atomic(const char *path, const char *tmp, const char *data, size_t len)
{
	size_t off = 0;
	int fd;

	if (remove(tmp) < 0 && errno != ENOENT)
		return LP_ERR_IO;
	/* The file inherits the directory's ACL (the user's profile by
	 * default); _S_IWRITE only keeps it from being read-only. */
	fd = _open(tmp, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY, _S_IREAD | _S_IWRITE);
	if (fd < 0)
		return LP_ERR_IO;
	while (off < len) {
		unsigned chunk = len - off > 65536 ? 65536u : (unsigned)(len - off);
		int n = _write(fd, data + off, chunk);

		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (_commit(fd) < 0)
		goto fail;
	if (_close(fd) < 0) {
		remove(tmp);
		return LP_ERR_IO;
	}
	if (!MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		remove(tmp);
		errno = EACCES;
		return LP_ERR_IO;
	}
	return 0;
fail:
	_close(fd);
	remove(tmp);
	return LP_ERR_IO;
}
