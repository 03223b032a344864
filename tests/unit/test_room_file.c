/*
 * test_room_file.c - the room file: created once (0600, atomically), the
 * same room on every later load, and refused when it is a symlink, not a
 * regular file, open to other users or malformed. POSIX only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lp_room.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_room_file.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/party.room", dir);
	return 0;
}

static int teardown(void **state)
{
	DIR *d;
	struct dirent *e;
	char p[400];

	(void)state;
	d = opendir(dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
		closedir(d);
	}
	return rmdir(dir);
}

static void write_file(const char *p, const char *content, mode_t mode)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Entries in the test directory (no temporary file may be left). */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_create_then_reload(void **state)
{
	struct lp_room_file a, b;
	struct lp_room_keys ka, kb;
	struct stat st;
	bool created = false;
	char err[256], text[1024];
	uint8_t pub[32];
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(lp_room_file_open(path, &a, &created, err, sizeof(err)), 0);
	assert_true(created);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(entries(), 1);
	assert_int_equal(lp_room_host_pub_derive(a.host_seed, pub), 0);
	assert_memory_equal(pub, a.host_pub, 32);

	/* The documented text: a secret comment, version, two keys. */
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_true(strncmp(text, "# softlan-vpn room file. SECRET", 31) == 0);
	assert_non_null(strstr(text, "\nversion=1\nsecret="));
	assert_non_null(strstr(text, "\nhost_seed="));

	assert_int_equal(lp_room_file_open(path, &b, &created, NULL, 0), 0);
	assert_false(created);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(lp_room_keys_derive(a.secret, a.host_pub, &ka), 0);
	assert_int_equal(lp_room_keys_derive(b.secret, b.host_pub, &kb), 0);
	assert_memory_equal(ka.room_id, kb.room_id, 16);

	/* A second room is a different room. */
	snprintf(text, sizeof(text), "%s/other.room", dir);
	assert_int_equal(lp_room_file_open(text, &b, &created, NULL, 0), 0);
	assert_true(created);
	assert_false(lp_room_ct_equal(a.secret, b.secret, 32));
	assert_false(lp_room_ct_equal(a.host_seed, b.host_seed, 32));
	lp_room_file_wipe(&a);
	lp_room_file_wipe(&b);
	lp_room_keys_wipe(&ka);
	lp_room_keys_wipe(&kb);
}

/* The mode does not depend on the caller's umask. */
static void test_create_umask_zero(void **state)
{
	struct lp_room_file f;
	struct stat st;
	mode_t old = umask(0);
	int rc;

	(void)state;
	rc = lp_room_file_open(path, &f, NULL, NULL, 0);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	lp_room_file_wipe(&f);
}

static void expect_refused(int want_rc, const char *want_msg)
{
	struct lp_room_file f;
	const struct lp_room_file zero = { 0 };
	bool created = true;
	char err[512];
	int rc;

	memset(&f, 0x77, sizeof(f));
	rc = lp_room_file_open(path, &f, &created, err, sizeof(err));
	if (rc != want_rc || strstr(err, want_msg) == NULL || strstr(err, path) == NULL)
		fail_msg("rc %d, err '%s' (wanted %d, '%s')", rc, err, want_rc, want_msg);
	assert_false(created);
	assert_memory_equal(&f, &zero, sizeof(f));
}

static const char good[] = "# softlan-vpn room file. SECRET\n"
                           "version=1\n"
                           "secret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
                           "host_seed=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n";

static void test_load_known(void **state)
{
	struct lp_room_file f;
	bool created = true;
	int i;

	(void)state;
	write_file(path, good, 0600);
	assert_int_equal(lp_room_file_open(path, &f, &created, NULL, 0), 0);
	assert_false(created);
	for (i = 0; i < 32; i++) {
		assert_int_equal(f.secret[i], i);
		assert_int_equal(f.host_seed[i], 0x20 + i);
	}
	/* P_H of test_room_keys.c's vector. */
	assert_int_equal(f.host_pub[0], 0x29);
	assert_int_equal(f.host_pub[31], 0xd7);
	/* 0400 is fine too (read-only for the owner). */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(lp_room_file_open(path, &f, NULL, NULL, 0), 0);
	lp_room_file_wipe(&f);
}

static void test_refuse_permissions(void **state)
{
	(void)state;
	write_file(path, good, 0644);
	expect_refused(LP_ERR_PERM, "mode 0644");
	assert_int_equal(chmod(path, 0640), 0);
	expect_refused(LP_ERR_PERM, "chmod 600");
	assert_int_equal(chmod(path, 0602), 0);
	expect_refused(LP_ERR_PERM, "other users");
	/* Refused, not rewritten: the file is the room. */
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0602);
	}
}

static void test_refuse_symlink_and_dir(void **state)
{
	char real[160];

	(void)state;
	snprintf(real, sizeof(real), "%s/real.room", dir);
	write_file(real, good, 0600);
	assert_int_equal(symlink(real, path), 0);
	expect_refused(LP_ERR_PERM, "symbolic link");
	assert_int_equal(unlink(path), 0);
	/* A dangling symlink is not "missing": nothing is created through it. */
	snprintf(real, sizeof(real), "%s/nowhere.room", dir);
	assert_int_equal(symlink(real, path), 0);
	expect_refused(LP_ERR_PERM, "symbolic link");
	assert_int_equal(access(real, F_OK), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(LP_ERR_PERM, "not a regular file");
}

static void test_refuse_malformed(void **state)
{
	static const struct {
		const char *text, *msg;
	} v[] = {
		{ "", "no version line" },
		{ "# only a comment\n", "no version line" },
		{ "version=1\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		  "no host_seed" },
		{ "version=1\nhost_seed=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n",
		  "no secret" },
		{ "version=2\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
		  "host_seed=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n",
		  "version" },
		{ "version=1\nversion=1\n", "repeated version" },
		{ "version=1\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\n", "bad secret" },
		{ "version=1\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\n",
		  "bad or repeated" },
		{ "version=1\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
		  "secret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		  "repeated secret" },
		{ "version=1\nhost_seed=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj\n",
		  "bad host_seed" },
		{ "version=1\nroom=PARTY1\n", "unknown key" },
		{ "version=1\nsecret =AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		  "unknown key" },
		{ "version=1\njust text\n", "not key=value" },
		{ "version=1\r\n", "version" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(v); i++) {
		write_file(path, v[i].text, 0600);
		expect_refused(LP_ERR_INVAL, v[i].msg);
	}
	/* NUL bytes and oversized files. */
	{
		FILE *f = fopen(path, "w");
		char big[5000];

		assert_non_null(f);
		assert_int_equal(fwrite("version=1\n\0x\n", 1, 13, f), 13);
		fclose(f);
		expect_refused(LP_ERR_INVAL, "NUL");
		memset(big, '#', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		write_file(path, big, 0600);
		expect_refused(LP_ERR_INVAL, "too large");
	}
	/* The secret never appears in a message. */
	{
		char err[512];
		struct lp_room_file f;

		write_file(path,
		           "version=1\nsecret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\nx=y\n",
		           0600);
		assert_int_equal(lp_room_file_open(path, &f, NULL, err, sizeof(err)), LP_ERR_INVAL);
		assert_null(strstr(err, "AAECAwQF"));
	}
}

static void test_missing_directory(void **state)
{
	struct lp_room_file f;
	char p[160], err[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/no/such/dir/party.room", dir);
	assert_int_equal(lp_room_file_open(p, &f, NULL, err, sizeof(err)), LP_ERR_IO);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(lp_room_file_open(NULL, &f, NULL, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_room_file_open("", &f, NULL, err, sizeof(err)), LP_ERR_INVAL);
}

/* A directory the process may not write: creating fails with PERM, and
 * nothing is left behind. As root (CI) the check runs in a child that
 * dropped to an unprivileged uid, since root writes anyway. */
static void test_read_only_directory(void **state)
{
	struct lp_room_file f;
	char err[256];
	pid_t pid;
	int status, rc;

	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0500), 0);
		rc = lp_room_file_open(path, &f, NULL, err, sizeof(err));
		assert_int_equal(chmod(dir, 0700), 0);
		assert_int_equal(rc, LP_ERR_PERM);
		assert_non_null(strstr(err, "cannot create"));
		assert_int_equal(entries(), 0);
		return;
	}
	assert_int_equal(chmod(dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		rc = lp_room_file_open(path, &f, NULL, err, sizeof(err));
		_exit(rc == LP_ERR_PERM && strstr(err, "cannot create") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_then_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_umask_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink_and_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
