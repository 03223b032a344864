/*
 * file_posix.c - lp_file_write_atomic on POSIX systems; see lp_base.h.
 */
#include "lp_base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Moves tmp onto path: 0, 1 when noreplace and path exists, -1 with errno. */
static int move(const char *tmp, const char *path, bool noreplace)
{
	if (!noreplace)
		return rename(tmp, path);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* Filesystems without RENAME_NOREPLACE: a hard link fails on an
	 * existing name just the same. */
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	return errno == EEXIST ? 1 : -1;
}

/* Best effort: the data is safe; only the new name's durability depends on
 * the directory being synced. */
static void sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL || slash == path ? 1 : (size_t)(slash - path);
	char dir[4096];
	int fd;

	if (n >= sizeof(dir))
		return;
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int lp_file_write_atomic(const char *path, const void *data, size_t len, unsigned flags)
{
	const char *p = data;
	char tmp[4096 + 16];
	int fd, rc = LP_ERR_IO, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return LP_ERR_IO;
	}
	/* mkstemp: O_CREAT | O_EXCL, mode 0600, a name nobody could plant. */
	fd = mkstemp(tmp);
	if (fd < 0)
		return LP_ERR_IO;
	if (fchmod(fd, 0600) < 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	saved = close(fd);
	fd = -1;
	if (saved < 0)
		goto out;
	rc = move(tmp, path, flags & LP_FILE_NOREPLACE);
	if (rc < 0)
		rc = LP_ERR_IO;
	else if (rc == 0)
		sync_dir_of(path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp); /* a moved tmp is gone */
	errno = saved;
	return rc;
}
