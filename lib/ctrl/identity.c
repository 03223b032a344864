/*
 * identity.c - the client's identity file: parse, encode, load, create.
 */
#include "lp_ctrl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lp_ctrl_identity_parse(const uint8_t *json, size_t len, struct lp_ctrl_identity *out)
{
	json_error_t jerr;
	json_t *root = NULL, *v;
	struct lp_ctrl_identity id;
	int rc;

	if (json == NULL || out == NULL)
		return LP_ERR_INVAL;
	if (len > LP_CTRL_IDENTITY_MAX)
		return LP_ERR_JSON;
	/* Without JSON_ALLOW_NUL an embedded NUL is refused as not JSON. */
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		rc = LP_ERR_JSON;
		goto out;
	}
	v = json_object_get(root, "version");
	if (v == NULL) {
		rc = LP_ERR_FIELD_MISSING;
		goto out;
	}
	if (!json_is_integer(v)) {
		rc = LP_ERR_FIELD_TYPE;
		goto out;
	}
	if (json_integer_value(v) != LP_CTRL_IDENTITY_VERSION) {
		rc = LP_ERR_VERSION;
		goto out;
	}
	v = json_object_get(root, "mac");
	if (v == NULL) {
		rc = LP_ERR_FIELD_MISSING;
		goto out;
	}
	if (!json_is_string(v)) {
		rc = LP_ERR_FIELD_TYPE;
		goto out;
	}
	rc = lp_proto_mac_parse(json_string_value(v), &id.mac);
	/* Locally administered, as generated: the relay refuses a client
	 * claiming a NIC's MAC, so say so at load rather than at every join. */
	if (rc == 0)
		rc = lp_proto_mac_validate_generated(&id.mac);
	if (rc == 0)
		*out = id;
out:
	json_decref(root);
	return rc;
}

ssize_t lp_ctrl_identity_encode(const struct lp_ctrl_identity *id, char *out, size_t cap)
{
	char mac[LP_MAC_STR_LEN];
	int rc, n;

	if (id == NULL || out == NULL)
		return LP_ERR_INVAL;
	rc = lp_proto_mac_validate_identity(&id->mac);
	if (rc < 0)
		return rc;
	lp_proto_mac_format(&id->mac, mac);
	/* Fixed layout: two known members, nothing to escape. */
	n = snprintf(out, cap, "{\"version\":%d,\"mac\":\"%s\"}\n", LP_CTRL_IDENTITY_VERSION, mac);
	if (n < 0 || (size_t)n >= cap)
		return LP_ERR_NOBUF;
	return (ssize_t)n;
}

int lp_ctrl_identity_load(const char *path, struct lp_ctrl_identity *out)
{
	uint8_t buf[LP_CTRL_IDENTITY_MAX + 1];
	FILE *f;
	size_t n;
	int rc;

	if (path == NULL || out == NULL)
		return LP_ERR_INVAL;
	f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? LP_ERR_NOT_FOUND : LP_ERR_IO;
	n = fread(buf, 1, sizeof(buf), f);
	rc = ferror(f) ? LP_ERR_IO : 0;
	fclose(f);
	if (rc < 0)
		return rc;
	/* One byte more than the limit was asked for: a larger file is refused
	 * rather than parsed cut short. */
	if (n > LP_CTRL_IDENTITY_MAX)
		return LP_ERR_JSON;
	return lp_ctrl_identity_parse(buf, n, out);
}

int lp_ctrl_identity_save(const char *path, const struct lp_ctrl_identity *id)
{
	char doc[128];
	ssize_t n;

	if (path == NULL || id == NULL)
		return LP_ERR_INVAL;
	n = lp_ctrl_identity_encode(id, doc, sizeof(doc));
	if (n < 0)
		return (int)n;
	return lp_file_write_atomic(path, doc, (size_t)n, 0);
}

int lp_ctrl_identity_load_or_create(const char *path, struct lp_ctrl_identity *out, bool *created)
{
	struct lp_ctrl_identity id;
	int rc;

	if (created != NULL)
		*created = false;
	rc = lp_ctrl_identity_load(path, out);
	if (rc != LP_ERR_NOT_FOUND)
		return rc;
	rc = lp_proto_mac_random(&id.mac);
	if (rc < 0)
		return rc;
	rc = lp_ctrl_identity_save(path, &id);
	if (rc < 0)
		return rc;
	*out = id;
	if (created != NULL)
		*created = true;
	return 0;
}
