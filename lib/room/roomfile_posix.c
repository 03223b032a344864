/*
 * roomfile_posix.c - loading and creating the room file on POSIX systems.
 *
 * The file is the room: losing it changes every invite, leaking it hands out
 * the gateway slot. So it is written with lp_file_write_atomic (mode 0600,
 * a unique temporary name, fsynced) without replacing a file another
 * process created meanwhile (that one is loaded instead); loading
 * refuses symlinks (O_NOFOLLOW, checked on the open descriptor) and any mode
 * that lets group or others read or write it.
 */
#include "roomfile_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int say(char *err, size_t errlen, int rc, const char *path, const char *fmt, ...)
        LP_PRINTF(5, 6);

static int say(char *err, size_t errlen, int rc, const char *path, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(err, errlen, "room file %s: %s", path, msg);
	}
	return rc;
}

static int errno_rc(int e)
{
	return e == EACCES || e == EPERM ? LP_ERR_PERM : LP_ERR_IO;
}

static int load(const char *path, struct lp_room_file *out, char *err, size_t errlen)
{
	char buf[LP_ROOM_FILE_MAX + 1], why[128], mode[32];
	struct stat st;
	size_t len = 0;
	int fd = -1, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return say(err, errlen, LP_ERR_PERM, path,
			           "is a symbolic link; refusing it (give the real path)");
		return say(err, errlen, errno_rc(errno), path, "cannot open: %s", strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = say(err, errlen, LP_ERR_IO, path, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = say(err, errlen, LP_ERR_PERM, path, "is not a regular file");
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		rc = say(err, errlen, LP_ERR_PERM, path,
		         "other users may read or write it (mode %s); it holds the room's "
		         "secret: chmod 600 it, and if others could read it, delete it to "
		         "make a new room and a new invite",
		         mode);
		goto out;
	}
	if (st.st_size > LP_ROOM_FILE_MAX) {
		rc = say(err, errlen, LP_ERR_INVAL, path, "is too large to be a room file");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = say(err, errlen, LP_ERR_IO, path, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LP_ROOM_FILE_MAX) {
			rc = say(err, errlen, LP_ERR_INVAL, path, "is too large to be a room file");
			goto out;
		}
	}
	rc = lp_room_file_text_parse(buf, len, out, why, sizeof(why));
	if (rc == LP_ERR_INVAL)
		say(err, errlen, rc, path, "malformed: %s", why);
	else if (rc < 0)
		say(err, errlen, rc, path, "cannot derive the host key");
out:
	lp_room_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* 0 created, 1 someone else created it first (load it), < 0 error. */
static int create(const char *path, const struct lp_room_file *f, char *err, size_t errlen)
{
	char text[LP_ROOM_FILE_MAX];
	int rc, len;

	len = lp_room_file_text_format(f, text, sizeof(text));
	if (len < 0)
		return say(err, errlen, len, path, "cannot format");
	rc = lp_file_write_atomic(path, text, (size_t)len, LP_FILE_NOREPLACE);
	if (rc < 0)
		rc = say(err, errlen, errno_rc(errno), path, "cannot create: %s", strerror(errno));
	lp_room_wipe(text, sizeof(text));
	return rc;
}

int lp_room_file_open(const char *path, struct lp_room_file *out, bool *created, char *err,
                      size_t errlen)
{
	struct lp_room_file fresh;
	struct stat st;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (created != NULL)
		*created = false;
	if (path == NULL || out == NULL || path[0] == '\0')
		return LP_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return load(path, out, err, errlen);
	rc = lp_room_file_generate(&fresh);
	if (rc < 0)
		return say(err, errlen, rc, path, "no random source for a new room");
	rc = create(path, &fresh, err, errlen);
	if (rc == 0) {
		*out = fresh;
		if (created != NULL)
			*created = true;
	} else if (rc == 1) {
		rc = load(path, out, err, errlen);
	}
	lp_room_file_wipe(&fresh);
	return rc;
}
