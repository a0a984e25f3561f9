/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca mounts: the image mounts root launches kept with --keep-mounted
 * (or [images] keep_mounted), and dropping them.
 */
#include "cmd.h"
#include "runtime.h"

#include <time.h>

static const char mounts_help[] =
	"Usage:\n  arca mounts [options]\n\n"
	"Lists the image mounts kept under " RT_KEEP_DIR " by root launches with\n"
	"--keep-mounted: the image each serves, when it expires, whether a running\n"
	"container uses it. Expired ones are unmounted by the next root launch.\n\n"
	"Options:\n"
	"      --drop     unmount every kept mount no running container uses\n"
	"      --expired  unmount only those that have expired\n"
	"  -j, --json     JSON output\n"
	"  -h, --help     this help\n";

static int list(bool json)
{
	struct arca_err e = { 0 };
	struct rt_kept *v = NULL;
	size_t n = 0;
	int rc = rt_kept_list(&v, &n, &e);
	if (rc < 0)
		return cmd_fail(&e, rc, "mounts");
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct val *arr = val_array_new(n);
	bool oom = !arr;
	for (size_t i = 0; i < n; i++) {
		char when[32] = "?";
		time_t t = (time_t)v[i].expires;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		const char *state = v[i].in_use ? "in use" : (v[i].mounted ? "idle" : "not mounted");
		if (!json) {
			buf_addf(&out, "%s\n  mount   %s\n  expires %s (%s)\n", v[i].image, v[i].path, when, state);
			continue;
		}
		struct val *o = val_object_new(4);
		if (!o || val_object_put_cstr(o, "image", val_cstr(v[i].image)) < 0 ||
		    val_object_put_cstr(o, "mount", val_cstr(v[i].path)) < 0 ||
		    val_object_put_cstr(o, "expires", val_cstr(when)) < 0 ||
		    val_object_put_cstr(o, "state", val_cstr(state)) < 0 || !arr) {
			val_unref(o);
			oom = true;
		} else if (val_array_push(arr, o) < 0) {
			oom = true;
		}
	}
	rt_kept_free(v, n);
	if (json && arr) {
		val_to_json(arr, &out, JSON_PRETTY);
		buf_addch(&out, '\n');
	} else if (!json && !n) {
		buf_addstr(&out, "no kept mounts\n");
	}
	val_unref(arr);
	if (oom || buf_error(&out)) {
		cmd_error("out of memory");
		return 1;
	}
	fwrite(out.p, 1, out.len, stdout);
	return 0;
}

int cmd_mounts(int argc, char **argv)
{
	bool drop = false, expired = false, json = false;
	const struct cmd_opt opts[] = {
		CMD_OPT_FLAG("drop", &drop),
		CMD_OPT_FLAG("expired", &expired),
		{ "json", NULL, &json, 'j' },
	};
	int rc = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), mounts_help);
	if (rc >= 0)
		return rc;
	if (optind != argc) {
		cmd_error("mounts takes no operands");
		return EXIT_USAGE;
	}
	if (!drop && !expired)
		return list(json);
	struct arca_err e = { 0 };
	unsigned dropped = 0, busy = 0;
	if ((rc = rt_kept_drop(drop, &dropped, &busy, &e)) < 0)
		return cmd_fail(&e, rc, "mounts");
	if (!cmd_quiet)
		printf("dropped %u kept mount%s%s\n", dropped, dropped == 1 ? "" : "s",
		       busy ? " (others are in use)" : "");
	return 0;
}
