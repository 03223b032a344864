/*
 * tap_windows_int.h - between tap_windows.c (device I/O) and
 * tap_windows_registry.c (adapter discovery, NetworkAddress).
 */
#ifndef LP_TAP_WINDOWS_INT_H
#define LP_TAP_WINDOWS_INT_H

#include <windows.h>

#include "lp_tap.h"

/* NetCfgInstanceId: "{8-4-4-4-12}" hex digits. */
#define LP_TAP_WIN_GUID_LEN 38
/* Windows caps connection names (ifAlias) at 256 UTF-16 units. */
#define LP_TAP_WIN_ALIAS_MAX 257
/* More TAP adapters than this on one machine are ignored. */
#define LP_TAP_WIN_MAX 64

struct lp_tap_win_adapter {
	WCHAR subkey[8];                    /* "0012": the adapter's class subkey */
	char guid[LP_TAP_WIN_GUID_LEN + 1]; /* "{...}" as the registry spells it */
	WCHAR alias[LP_TAP_WIN_ALIAS_MAX];  /* connection name, L"" when unset */
	char name[LP_TAP_NAME_MAX];         /* alias in UTF-8, cut to fit */
};

/*
 * All TAP-Windows6 adapters of the network adapter class key, sorted by
 * subkey (what "the first adapter" means). Fills min(cap, total), sets
 * *total. LP_ERR_NOT_FOUND (no class key), LP_ERR_PERM, LP_ERR_IO.
 */
int lp_tap_win_discover(struct lp_tap_win_adapter *out, size_t cap, size_t *total) LP_WUR;

/*
 * The adapter named name (connection name or GUID, case-insensitive, GUID
 * braces optional; NULL or "": the first one). LP_ERR_NOT_FOUND when there
 * is none, or errors of lp_tap_win_discover.
 */
int lp_tap_win_find(const char *name, struct lp_tap_win_adapter *out) LP_WUR;

/* Writes mac as the adapter's NetworkAddress (REG_SZ, 12 uppercase hex
 * digits). LP_ERR_PERM (not an administrator), LP_ERR_NOT_FOUND, LP_ERR_IO. */
int lp_tap_win_set_network_address(const struct lp_tap_win_adapter *a,
                                   const struct lp_mac *mac) LP_WUR;

/* Registry and Win32 error code to LP_ERR_*. */
int lp_tap_win_err(DWORD err);

#endif /* LP_TAP_WINDOWS_INT_H */
