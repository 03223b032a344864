/*
 * tap_windows_registry.c - finding TAP-Windows6 adapters and setting their
 * NetworkAddress, through the registry.
 *
 * Every network adapter has a subkey NNNN of the network adapter class key;
 * TAP-Windows6 ones carry ComponentId "tap0901" (or "root\tap0901" when
 * installed by devcon/tapctl as a root-enumerated device) and their
 * NetCfgInstanceId {GUID}. The name users see lives elsewhere, under the
 * Network class key's {GUID}\Connection\Name.
 */
#include "tap_windows_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NET_CLASS L"{4D36E972-E325-11CE-BFC1-08002BE10318}"
#define CLASS_KEY L"SYSTEM\\CurrentControlSet\\Control\\Class\\" NET_CLASS
#define NETWORK_KEY L"SYSTEM\\CurrentControlSet\\Control\\Network\\" NET_CLASS

int lp_tap_win_err(DWORD err)
{
	switch (err) {
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
		return LP_ERR_PERM;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return LP_ERR_NOT_FOUND;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return LP_ERR_NOMEM;
	default:
		return LP_ERR_IO;
	}
}

/* A REG_SZ value, NUL-terminated by RegGetValueW even when stored without. */
static LSTATUS get_sz(HKEY key, const WCHAR *sub, const WCHAR *value, WCHAR *out, DWORD cap)
{
	DWORD size = cap * (DWORD)sizeof(WCHAR);

	return RegGetValueW(key, sub, value, RRF_RT_REG_SZ, NULL, out, &size);
}

static bool is_class_subkey(const WCHAR *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < L'0' || s[i] > L'9')
			return false;
	return s[4] == L'\0';
}

/* Only a well-formed GUID goes into a device path. */
static bool guid_ok(const WCHAR *g)
{
	static const char shape[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		WCHAR c = g[i];

		if (shape[i] != 'x') {
			if (c != (WCHAR)shape[i])
				return false;
		} else if (!((c >= L'0' && c <= L'9') || (c >= L'a' && c <= L'f') ||
		             (c >= L'A' && c <= L'F'))) {
			return false;
		}
	}
	return g[sizeof(shape) - 1] == L'\0';
}

/* alias as UTF-8 into name, cut at a character boundary when too long. */
static void alias_to_utf8(const WCHAR *alias, char name[LP_TAP_NAME_MAX])
{
	char full[LP_TAP_WIN_ALIAS_MAX * 3];
	size_t n;

	name[0] = '\0';
	if (WideCharToMultiByte(CP_UTF8, 0, alias, -1, full, (int)sizeof(full), NULL, NULL) == 0)
		return;
	n = strlen(full);
	if (n >= LP_TAP_NAME_MAX) {
		n = LP_TAP_NAME_MAX - 1;
		while (n > 0 && ((unsigned char)full[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(name, full, n);
	name[n] = '\0';
}

/* Fills a from class subkey sub when it is a TAP-Windows6 adapter. */
static bool read_adapter(HKEY cls, const WCHAR *sub, struct lp_tap_win_adapter *a)
{
	WCHAR comp[64], guid[64], conn[256];

	if (get_sz(cls, sub, L"ComponentId", comp, LP_ARRAY_LEN(comp)) != ERROR_SUCCESS)
		return false;
	if (CompareStringOrdinal(comp, -1, L"tap0901", -1, TRUE) != CSTR_EQUAL &&
	    CompareStringOrdinal(comp, -1, L"root\\tap0901", -1, TRUE) != CSTR_EQUAL)
		return false;
	if (get_sz(cls, sub, L"NetCfgInstanceId", guid, LP_ARRAY_LEN(guid)) != ERROR_SUCCESS ||
	    !guid_ok(guid))
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(a->subkey, sub, 5 * sizeof(WCHAR));
	for (int i = 0; i < LP_TAP_WIN_GUID_LEN; i++)
		a->guid[i] = (char)guid[i];
	/* A missing name is normal right after installation: match by GUID. */
	if (swprintf(conn, LP_ARRAY_LEN(conn), L"%ls\\%ls\\Connection", NETWORK_KEY, guid) > 0 &&
	    get_sz(HKEY_LOCAL_MACHINE, conn, L"Name", a->alias, LP_ARRAY_LEN(a->alias)) !=
	            ERROR_SUCCESS)
		a->alias[0] = L'\0';
	alias_to_utf8(a->alias, a->name);
	return true;
}

static int by_subkey(const void *x, const void *y)
{
	const struct lp_tap_win_adapter *a = x, *b = y;

	return wcscmp(a->subkey, b->subkey);
}

int lp_tap_win_discover(struct lp_tap_win_adapter *out, size_t cap, size_t *total)
{
	struct lp_tap_win_adapter *all = NULL;
	HKEY cls = NULL;
	size_t n = 0;
	LSTATUS st;
	int rc;

	*total = 0;
	st = RegOpenKeyExW(HKEY_LOCAL_MACHINE, CLASS_KEY, 0, KEY_READ, &cls);
	if (st != ERROR_SUCCESS)
		return lp_tap_win_err((DWORD)st);
	all = calloc(LP_TAP_WIN_MAX, sizeof(*all));
	if (all == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	for (DWORD i = 0; n < LP_TAP_WIN_MAX; i++) {
		WCHAR sub[32];
		DWORD len = LP_ARRAY_LEN(sub);

		st = RegEnumKeyExW(cls, i, sub, &len, NULL, NULL, NULL, NULL);
		if (st == ERROR_NO_MORE_ITEMS)
			break;
		/* Names longer than sub are not NNNN subkeys anyway. */
		if (st == ERROR_MORE_DATA)
			continue;
		if (st != ERROR_SUCCESS) {
			rc = lp_tap_win_err((DWORD)st);
			goto out;
		}
		/* "Properties" and the like are not adapters (and deny reads). */
		if (is_class_subkey(sub) && read_adapter(cls, sub, &all[n]))
			n++;
	}
	qsort(all, n, sizeof(*all), by_subkey);
	if (cap > 0)
		memcpy(out, all, (n < cap ? n : cap) * sizeof(*all));
	*total = n;
	rc = 0;
out:
	free(all);
	RegCloseKey(cls);
	return rc;
}

static bool guid_matches(const struct lp_tap_win_adapter *a, const char *name)
{
	size_t len = strlen(name);
	const char *g = a->guid;

	if (len == LP_TAP_WIN_GUID_LEN - 2) {
		/* Braces are optional. */
		g++;
	} else if (len != LP_TAP_WIN_GUID_LEN) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char x = name[i], y = g[i];

		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 'a' + 'A');
		if (x != y)
			return false;
	}
	return true;
}

int lp_tap_win_find(const char *name, struct lp_tap_win_adapter *out)
{
	struct lp_tap_win_adapter *all = NULL;
	WCHAR wname[LP_TAP_WIN_ALIAS_MAX];
	size_t total;
	int rc;

	all = calloc(LP_TAP_WIN_MAX, sizeof(*all));
	if (all == NULL)
		return LP_ERR_NOMEM;
	rc = lp_tap_win_discover(all, LP_TAP_WIN_MAX, &total);
	if (rc < 0)
		goto out;
	if (total > LP_TAP_WIN_MAX)
		total = LP_TAP_WIN_MAX;
	rc = LP_ERR_NOT_FOUND;
	if (name == NULL || name[0] == '\0') {
		if (total > 0) {
			*out = all[0];
			rc = 0;
		}
		goto out;
	}
	/* Names that are not UTF-8 or too long can still match a GUID. */
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, wname,
	                        (int)LP_ARRAY_LEN(wname)) == 0)
		wname[0] = L'\0';
	for (size_t i = 0; i < total; i++) {
		if (guid_matches(&all[i], name) ||
		    (wname[0] != L'\0' && all[i].alias[0] != L'\0' &&
		     CompareStringOrdinal(wname, -1, all[i].alias, -1, TRUE) == CSTR_EQUAL)) {
			*out = all[i];
			rc = 0;
			break;
		}
	}
out:
	free(all);
	return rc;
}

int lp_tap_win_set_network_address(const struct lp_tap_win_adapter *a, const struct lp_mac *mac)
{
	WCHAR sub[256], text[2 * LP_MAC_LEN + 1];
	HKEY key = NULL;
	LSTATUS st;

	if (swprintf(sub, LP_ARRAY_LEN(sub), L"%ls\\%ls", CLASS_KEY, a->subkey) < 0)
		return LP_ERR_INVAL;
	/* The form NDIS's NdisReadNetworkAddress parses: hex, no separators. */
	if (swprintf(text, LP_ARRAY_LEN(text), L"%02X%02X%02X%02X%02X%02X", mac->b[0], mac->b[1],
	             mac->b[2], mac->b[3], mac->b[4], mac->b[5]) != 2 * LP_MAC_LEN)
		return LP_ERR_INVAL;
	st = RegOpenKeyExW(HKEY_LOCAL_MACHINE, sub, 0, KEY_SET_VALUE, &key);
	if (st != ERROR_SUCCESS)
		return lp_tap_win_err((DWORD)st);
	st = RegSetValueExW(key, L"NetworkAddress", 0, REG_SZ, (const BYTE *)text, sizeof(text));
	RegCloseKey(key);
	return st == ERROR_SUCCESS ? 0 : lp_tap_win_err((DWORD)st);
}

int lp_tap_list(struct lp_tap_adapter *out, size_t cap, size_t *total)
{
	struct lp_tap_win_adapter *all = NULL;
	size_t n;
	int rc;

	all = calloc(LP_TAP_WIN_MAX, sizeof(*all));
	if (all == NULL)
		return LP_ERR_NOMEM;
	rc = lp_tap_win_discover(all, LP_TAP_WIN_MAX, total);
	if (rc < 0)
		goto out;
	n = *total < cap ? *total : cap;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].name, all[i].name, sizeof(out[i].name));
		memcpy(out[i].id, all[i].guid, sizeof(all[i].guid));
	}
out:
	free(all);
	return rc;
}
