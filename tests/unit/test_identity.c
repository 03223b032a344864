/* test_identity.c - the client identity file: parse, encode, load, atomic save, create. */
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
#include <unistd.h>

#include "lp_ctrl.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_identity.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, LP_CTRL_IDENTITY_FILE);
	return 0;
}

static int teardown(void **state)
{
	char tmp[160];

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(path);
	unlink(tmp);
	return rmdir(dir);
}

static int parse(const char *s, struct lp_ctrl_identity *id)
{
	return lp_ctrl_identity_parse((const uint8_t *)s, strlen(s), id);
}

static void write_file(const char *p, const char *content)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_parse_ok(void **state)
{
	struct lp_ctrl_identity id;
	const uint8_t want[6] = { 0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e };

	(void)state;
	assert_int_equal(parse("{\"version\":1,\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id), 0);
	assert_memory_equal(id.mac.b, want, 6);
	/* dash form, upper case, extra members ignored, surrounding space */
	memset(&id, 0, sizeof(id));
	assert_int_equal(
	        parse(" {\"mac\":\"02-1A-2B-3C-4D-5E\",\"version\":1,\"note\":[1]}\n", &id), 0);
	assert_memory_equal(id.mac.b, want, 6);
	/* a globally administered MAC is a NIC's: the relay would refuse it */
	memset(&id, 0, sizeof(id));
	assert_int_equal(parse("{\"version\":1,\"mac\":\"00:1b:21:aa:bb:cc\"}", &id),
	                 LP_ERR_MAC_NOT_LOCAL);
	assert_int_equal(id.mac.b[0], 0x00);
}

static void test_parse_errors(void **state)
{
	struct lp_ctrl_identity id;
	char big[LP_CTRL_IDENTITY_MAX + 64];

	(void)state;
	id.mac.b[0] = 0xee;
	assert_int_equal(parse("", &id), LP_ERR_JSON);
	assert_int_equal(parse("{", &id), LP_ERR_JSON);
	assert_int_equal(parse("[1]", &id), LP_ERR_JSON);
	assert_int_equal(parse("\"02:1a:2b:3c:4d:5e\"", &id), LP_ERR_JSON);
	assert_int_equal(parse("{\"version\":1,\"version\":1,\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_JSON);
	assert_int_equal(parse("{\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id), LP_ERR_FIELD_MISSING);
	assert_int_equal(parse("{\"version\":\"1\",\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_FIELD_TYPE);
	assert_int_equal(parse("{\"version\":1.0,\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_FIELD_TYPE);
	assert_int_equal(parse("{\"version\":2,\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_VERSION);
	assert_int_equal(parse("{\"version\":0,\"mac\":\"02:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_VERSION);
	assert_int_equal(parse("{\"version\":1}", &id), LP_ERR_FIELD_MISSING);
	assert_int_equal(parse("{\"version\":1,\"mac\":42}", &id), LP_ERR_FIELD_TYPE);
	assert_int_equal(parse("{\"version\":1,\"mac\":\"02:1a:2b:3c:4d\"}", &id),
	                 LP_ERR_MAC_SYNTAX);
	/* embedded NUL: not JSON for us (Jansson refuses it without JSON_ALLOW_NUL) */
	assert_int_equal(parse("{\"version\":1,\"mac\":\"02:1a:2b:3c:4d:5e\\u0000\"}", &id),
	                 LP_ERR_JSON);
	assert_int_equal(parse("{\"version\":1,\"mac\":\"00:00:00:00:00:00\"}", &id),
	                 LP_ERR_MAC_ZERO);
	assert_int_equal(parse("{\"version\":1,\"mac\":\"03:1a:2b:3c:4d:5e\"}", &id),
	                 LP_ERR_MAC_GROUP);
	assert_int_equal(parse("{\"version\":1,\"mac\":\"ff:ff:ff:ff:ff:ff\"}", &id),
	                 LP_ERR_MAC_GROUP);
	/* refused documents leave *out alone */
	assert_int_equal(id.mac.b[0], 0xee);
	/* larger than the limit, even if it is valid JSON */
	memset(big, ' ', sizeof(big));
	memcpy(big + sizeof(big) - 40, "{\"version\":1,\"mac\":\"02:1a:2b:3c:4d:5e\"}", 39);
	assert_int_equal(lp_ctrl_identity_parse((const uint8_t *)big, sizeof(big) - 1, &id),
	                 LP_ERR_JSON);
	assert_int_equal(lp_ctrl_identity_parse(NULL, 0, &id), LP_ERR_INVAL);
}

static void test_encode(void **state)
{
	struct lp_ctrl_identity id = { { { 0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e } } }, back;
	const char *want = "{\"version\":1,\"mac\":\"02:1a:2b:3c:4d:5e\"}\n";
	char out[128];

	(void)state;
	assert_int_equal(lp_ctrl_identity_encode(&id, out, sizeof(out)), (ssize_t)strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(parse(out, &back), 0);
	assert_memory_equal(back.mac.b, id.mac.b, 6);
	/* exactly fitting needs room for the NUL */
	assert_int_equal(lp_ctrl_identity_encode(&id, out, strlen(want)), LP_ERR_NOBUF);
	assert_int_equal(lp_ctrl_identity_encode(&id, out, strlen(want) + 1),
	                 (ssize_t)strlen(want));
	id.mac.b[0] = 0x01;
	assert_int_equal(lp_ctrl_identity_encode(&id, out, sizeof(out)), LP_ERR_MAC_GROUP);
	memset(&id, 0, sizeof(id));
	assert_int_equal(lp_ctrl_identity_encode(&id, out, sizeof(out)), LP_ERR_MAC_ZERO);
}

static void test_load(void **state)
{
	struct lp_ctrl_identity id;
	char big[LP_CTRL_IDENTITY_MAX + 2];

	(void)state;
	assert_int_equal(lp_ctrl_identity_load(path, &id), LP_ERR_NOT_FOUND);
	write_file(path, "{\"version\":1,\"mac\":\"02:00:00:00:00:07\"}");
	assert_int_equal(lp_ctrl_identity_load(path, &id), 0);
	assert_int_equal(id.mac.b[5], 7);
	write_file(path, "{\"version\":1,\"mac\":\"02:00:00:00:00:0");
	assert_int_equal(lp_ctrl_identity_load(path, &id), LP_ERR_JSON);
	/* one byte over the limit: refused, not parsed cut short */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"version\":1,\"mac\":\"02:00:00:00:00:07\"}", 39);
	write_file(path, big);
	assert_int_equal(lp_ctrl_identity_load(path, &id), LP_ERR_JSON);
	big[sizeof(big) - 2] = '\0'; /* exactly the limit: accepted */
	write_file(path, big);
	assert_int_equal(lp_ctrl_identity_load(path, &id), 0);
	/* a directory cannot be read as a file */
	assert_int_equal(lp_ctrl_identity_load(dir, &id), LP_ERR_IO);
}

/* The unique temporaries of lp_file_write_atomic left in dir. */
static int tmp_files(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".tmp-") != NULL;
	closedir(d);
	return n;
}

static void test_save_atomic_0600(void **state)
{
	struct lp_ctrl_identity id = { { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x2a } } }, back;
	char tmp[160], lnk[160];
	struct stat st;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* what sits at a guessable tmp name is never used */
	write_file(tmp, "garbage");
	write_file(path, "{\"version\":1,\"mac\":\"02:00:00:00:00:01\"}");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(lp_ctrl_identity_save(path, &id), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tmp_files(), 0);
	assert_int_equal(lp_ctrl_identity_load(path, &back), 0);
	assert_int_equal(back.mac.b[5], 0x2a);

	/* a symlink planted at the tmp name is never written through */
	snprintf(lnk, sizeof(lnk), "%s/victim", dir);
	write_file(lnk, "keep");
	assert_int_equal(unlink(tmp), 0);
	assert_int_equal(symlink(lnk, tmp), 0);
	id.mac.b[5] = 0x2b;
	assert_int_equal(lp_ctrl_identity_save(path, &id), 0);
	assert_int_equal(lp_ctrl_identity_load(path, &back), 0);
	assert_int_equal(back.mac.b[5], 0x2b);
	assert_int_equal(stat(lnk, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(unlink(lnk), 0);
	assert_int_equal(tmp_files(), 0);

	/* invalid identities are not written */
	id.mac.b[0] = 0x01;
	assert_int_equal(lp_ctrl_identity_save(path, &id), LP_ERR_MAC_GROUP);
	/* no such directory */
	assert_int_equal(lp_ctrl_identity_save("/nonexistent-dir/x.json", &back), LP_ERR_IO);
}

static void test_load_or_create(void **state)
{
	struct lp_ctrl_identity a, b;
	bool created = false;
	struct stat st;

	(void)state;
	unlink(path);
	assert_int_equal(lp_ctrl_identity_load_or_create(path, &a, &created), 0);
	assert_true(created);
	assert_int_equal(lp_proto_mac_validate_generated(&a.mac), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* second run: the same MAC, not a new one */
	assert_int_equal(lp_ctrl_identity_load_or_create(path, &b, &created), 0);
	assert_false(created);
	assert_memory_equal(a.mac.b, b.mac.b, 6);
	/* a broken file is reported, never silently replaced */
	write_file(path, "{\"version\":3,\"mac\":\"02:00:00:00:00:01\"}");
	assert_int_equal(lp_ctrl_identity_load_or_create(path, &b, &created), LP_ERR_VERSION);
	assert_false(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 39);
	/* nowhere to create it */
	assert_int_equal(lp_ctrl_identity_load_or_create("/nonexistent-dir/id.json", &b, &created),
	                 LP_ERR_IO);
	assert_false(created);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_encode),
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_atomic_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_or_create, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
