/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Execution control list: the signer gate applied before an image runs.
 *
 * The configuration is the reference runtime's ecl.toml, parsed as full
 * TOML by arca's TOML reader (val_from_toml) and then checked field by field:
 *
 *   activated = true            # booleans: true / false
 *   legacyinsecure = false
 *   [[execgroup]]               # one table per execution group
 *     tagname = "group1"        # strings: "basic" (with escapes) or 'literal'
 *     mode = "whitelist"        # whitelist | whitestrict | blacklist
 *     dirpath = "/srv/images"   # "" = any directory
 *     keyfp = ["7064B1D6...", "SHA256:..."]   # arrays may span lines
 *
 * Unknown keys and values of the wrong type are refused, so that a typo
 * cannot silently switch the gate off.
 */
#include "internal.h"

#include <dirent.h>
#include <libgen.h>

/* Named limits for the configuration file. */
#define ECL_MAX_BYTES (1u << 20)
#define ECL_MAX_GROUPS 256
#define ECL_MAX_KEYS 256
#define ECL_MAX_STRING 4096

void integrity_ecl_free(struct integrity_ecl *ecl)
{
	if (!ecl)
		return;
	for (size_t i = 0; i < ecl->n; i++) {
		free(ecl->groups[i].tag);
		free(ecl->groups[i].dirpath);
		for (size_t k = 0; k < ecl->groups[i].nkeys; k++)
			free(ecl->groups[i].keys[k]);
		free(ecl->groups[i].keys);
	}
	free(ecl->groups);
	free(ecl);
}

static int parse_mode(const char *s, enum integrity_ecl_mode *m)
{
	if (!strcmp(s, "whitelist"))
		*m = INTEGRITY_ECL_WHITELIST;
	else if (!strcmp(s, "whitestrict"))
		*m = INTEGRITY_ECL_WHITESTRICT;
	else if (!strcmp(s, "blacklist"))
		*m = INTEGRITY_ECL_BLACKLIST;
	else
		return -EBADMSG;
	return 0;
}

/* ECL: fingerprints are 40 hex digits; DSSE key IDs "SHA256:" + base64. */
static bool valid_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 40) {
		for (size_t i = 0; i < n; i++)
			if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f') || (k[i] >= 'A' && k[i] <= 'F')))
				return false;
		return true;
	}
	return n > 7 && n < INTEGRITY_KEYID_MAX && !strncmp(k, "SHA256:", 7);
}

/* A string field of bounded length, copied; absent is fine. */
static int take_string(const struct val *v, const char *what, size_t gi, char **out, struct arca_err *e)
{
	int rc = val_dup_cstr(v, ECL_MAX_STRING, out);
	if (rc == -EBADMSG)
		return err_set(e, rc, "ecl: execution group %zu: %s must be a string without NUL", gi, what);
	if (rc == -E2BIG)
		return err_set(e, rc, "ecl: execution group %zu: %s longer than %d bytes", gi, what, ECL_MAX_STRING);
	return rc < 0 ? err_set(e, rc, "out of memory") : 0;
}

static int parse_group(const struct val *gv, size_t gi, struct integrity_ecl_group *g, struct arca_err *e)
{
	if (gv->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "ecl: execution group %zu is not a table", gi);
	for (size_t i = 0; i < gv->obj.n; i++) {
		const char *k = val_str(gv->obj.keys[i]);
		const struct val *v = gv->obj.vals[i];
		int rc = 0;
		if (!strcmp(k, "tagname")) {
			rc = take_string(v, "tagname", gi, &g->tag, e);
		} else if (!strcmp(k, "dirpath")) {
			rc = take_string(v, "dirpath", gi, &g->dirpath, e);
		} else if (!strcmp(k, "mode")) {
			if (!val_str(v) || parse_mode(val_str(v), &g->mode) < 0)
				return err_set(e, -EBADMSG,
					       "ecl: execution group %zu: mode must be whitelist, whitestrict or blacklist", gi);
			g->has_mode = true;
		} else if (!strcmp(k, "keyfp")) {
			if (v->kind != VAL_ARRAY)
				return err_set(e, -EBADMSG, "ecl: execution group %zu: keyfp must be an array", gi);
			if (v->arr.n > ECL_MAX_KEYS)
				return err_set(e, -E2BIG, "ecl: execution group %zu: more than %d keys", gi, ECL_MAX_KEYS);
			g->keys = calloc(v->arr.n + 1, sizeof(*g->keys));
			if (!g->keys)
				return err_set(e, -ENOMEM, "out of memory");
			for (size_t j = 0; j < v->arr.n && rc == 0; j++) {
				rc = take_string(v->arr.items[j], "keyfp entry", gi, &g->keys[j], e);
				if (rc == 0 && !valid_key(g->keys[j]))
					rc = err_set(e, -EBADMSG, "ecl: execution group %zu: bad key fingerprint \"%s\"", gi,
						     g->keys[j]);
				g->nkeys = j + 1;
			}
		} else {
			return err_set(e, -EBADMSG, "ecl: execution group %zu: unknown key \"%s\"", gi, k);
		}
		if (rc < 0)
			return rc;
	}
	if (!g->has_mode)
		return err_set(e, -EBADMSG, "ecl: execution group %zu has no mode", gi);
	return 0;
}

int integrity_ecl_parse(const char *text, size_t len, struct integrity_ecl **out, struct arca_err *e)
{
	if (len > ECL_MAX_BYTES)
		return err_set(e, -E2BIG, "ecl: file larger than %u bytes", ECL_MAX_BYTES);
	_cleanup_val_ struct val *doc = NULL;
	int rc = val_from_toml(text, len, &doc, e);
	if (rc < 0)
		return err_wrap(e, rc, "ecl");
	struct integrity_ecl *ecl = calloc(1, sizeof(*ecl));
	if (!ecl)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < doc->obj.n && rc == 0; i++) {
		const char *k = val_str(doc->obj.keys[i]);
		const struct val *v = doc->obj.vals[i];
		if (!strcmp(k, "activated") || !strcmp(k, "legacyinsecure")) {
			if (v->kind != VAL_BOOL)
				rc = err_set(e, -EBADMSG, "ecl: %s must be true or false", k);
			else if (k[0] == 'a')
				ecl->activated = v->b;
			else
				ecl->legacy = v->b;
		} else if (!strcmp(k, "execgroup")) {
			if (v->kind != VAL_ARRAY)
				rc = err_set(e, -EBADMSG, "ecl: execgroup must be an array of tables ([[execgroup]])");
			else if (v->arr.n > ECL_MAX_GROUPS)
				rc = err_set(e, -E2BIG, "ecl: more than %d execution groups", ECL_MAX_GROUPS);
			else if (!(ecl->groups = calloc(v->arr.n + 1, sizeof(*ecl->groups))))
				rc = err_set(e, -ENOMEM, "out of memory");
			for (size_t j = 0; rc == 0 && j < v->arr.n; j++) {
				ecl->n = j + 1;
				rc = parse_group(v->arr.items[j], j + 1, &ecl->groups[j], e);
			}
		} else {
			rc = err_set(e, -EBADMSG, "ecl: unknown top-level key \"%s\"", k);
		}
	}
	/* Reference validation: no two groups share a directory. */
	for (size_t i = 0; rc == 0 && i < ecl->n; i++) {
		const char *d = ecl->groups[i].dirpath;
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (d && d[0] && ecl->groups[j].dirpath && !strcmp(d, ecl->groups[j].dirpath))
				rc = err_set(e, -EBADMSG, "ecl: two execution groups use the directory \"%s\"", d);
	}
	if (rc < 0) {
		integrity_ecl_free(ecl);
		return rc;
	}
	*out = ecl;
	return 0;
}

int integrity_ecl_load(const char *path, struct integrity_ecl **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, ECL_MAX_BYTES, &b, e);
	if (rc < 0)
		return rc;
	rc = integrity_ecl_parse(b.p, b.len, out, e);
	return rc < 0 ? err_wrap(e, rc, "'%s'", path) : 0;
}

static bool key_listed(const struct integrity_ecl_group *g, const char *key)
{
	for (size_t k = 0; k < g->nkeys; k++)
		if (!strcasecmp(g->keys[k], key))
			return true;
	return false;
}

/* Does a passing signature in @r carry @key (fingerprint or key ID)? */
static bool signed_by(const struct integrity_report *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!r->sigs[i].ok)
			continue;
		if (!strcasecmp(r->sigs[i].fingerprint, key))
			return true;
		for (size_t k = 0; k < r->sigs[i].nkeyids; k++)
			if (!strcmp(r->sigs[i].keyids[k], key))
				return true;
	}
	return false;
}

int integrity_ecl_check(const struct integrity_ecl *ecl, const char *image_path, const struct sif_image *img,
			const struct integrity_verifier *v, struct arca_err *e)
{
	if (!ecl->activated)
		return 0;
	char *real = realpath(image_path, NULL);
	if (!real)
		return err_setsys(e, -errno, "ecl: cannot resolve '%s'", image_path);
	char *dir = dirname(real);
	const struct integrity_ecl_group *g = NULL;
	for (size_t i = 0; i < ecl->n && !g; i++)
		if (ecl->groups[i].dirpath && ecl->groups[i].dirpath[0] && !strcmp(ecl->groups[i].dirpath, dir))
			g = &ecl->groups[i];
	for (size_t i = 0; i < ecl->n && !g; i++)
		if (!ecl->groups[i].dirpath || !ecl->groups[i].dirpath[0])
			g = &ecl->groups[i];
	if (!g) {
		int rc = err_set(e, -EPERM, "ecl: '%s' is not part of any execution group", image_path);
		free(real);
		return rc;
	}
	free(real);
	const char *tag = g->tag ? g->tag : "(untagged)";

	if (g->mode == INTEGRITY_ECL_BLACKLIST) {
		/* Refused when any signature names a listed signer, verified
		 * or not (as the reference: presence is enough). */
		for (size_t i = 0; i < sif_descr_slots(img); i++) {
			const struct sif_descr *d = sif_descr_slot(img, i);
			int32_t ht;
			uint8_t fp[SIF_FINGERPRINT_LEN];
			size_t fl = 0;
			if (!d->used || d->datatype != SIF_DATA_SIGNATURE || sif_descr_signature(d, &ht, fp, &fl) < 0 || !fl)
				continue;
			char hex[2 * SIF_FINGERPRINT_LEN + 1];
			hex_encode(fp, SIF_FINGERPRINT_LEN, hex);
			if (key_listed(g, hex))
				return err_set(e, -EPERM, "ecl: execution group \"%s\" (blacklist): image signed by %s", tag, hex);
		}
		return 0;
	}
	struct integrity_verify_opts o = { .legacy_all = ecl->legacy };
	_cleanup_integrity_report_ struct integrity_report *r = NULL;
	int rc = integrity_verify(img, v, &o, &r, e);
	if (rc < 0)
		return err_wrap(e, rc, "ecl: execution group \"%s\": image does not verify", tag);
	if (g->mode == INTEGRITY_ECL_WHITELIST) {
		for (size_t k = 0; k < g->nkeys; k++)
			if (signed_by(r, g->keys[k]))
				return 0;
		return err_set(e, -EPERM, "ecl: execution group \"%s\" (whitelist): not signed by any listed key", tag);
	}
	for (size_t k = 0; k < g->nkeys; k++)
		if (!signed_by(r, g->keys[k]))
			return err_set(e, -EPERM, "ecl: execution group \"%s\" (whitestrict): not signed by %s", tag, g->keys[k]);
	if (g->nkeys == 0)
		return err_set(e, -EPERM, "ecl: execution group \"%s\" (whitestrict) lists no keys", tag);
	return 0;
}

/* The administrators' PEM public keys: every file of pem/ that parses as
 * one (private keys and other files are skipped). */
static int add_global_pem_keys(struct integrity_verifier *v, struct arca_err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	int rc = integrity_keydir(true, &dir, e);
	if (rc < 0)
		return rc;
	buf_addstr(&dir, "/pem");
	if (buf_error(&dir) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	DIR *d = opendir(dir.p);
	if (!d)
		return 0;
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d)) != NULL && n < 16) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_buf_ struct buf path = BUF_INIT;
		buf_addf(&path, "%s/%s", dir.p, de->d_name);
		_cleanup_buf_ struct buf head = BUF_INIT;
		if (buf_error(&path) < 0 || file_read_all(path.p, 1u << 20, &head, NULL) < 0)
			continue;
		bool pub = strstr(head.p, "PUBLIC KEY-----") != NULL;
		secure_wipe(head.p, head.len);
		if (pub && integrity_verifier_add_pem(v, path.p, NULL) == 0)
			n++;
	}
	closedir(d);
	return 0;
}

int integrity_verifier_global(struct integrity_verifier **out, struct arca_err *e)
{
	_cleanup_integrity_verifier_ struct integrity_verifier *v = NULL;
	_cleanup_buf_ struct buf home = BUF_INIT;
	int rc = integrity_verifier_new(&v);
	if (rc < 0)
		return err_set(e, rc, "out of memory");
	if ((rc = integrity_keydir_gnupg(true, false, &home, e)) < 0)
		return rc;
	if (access(home.p, F_OK) == 0 && (rc = integrity_verifier_set_gnupghome(v, home.p, e)) < 0)
		return rc;
	if ((rc = add_global_pem_keys(v, e)) < 0)
		return rc;
	*out = TAKE_PTR(v);
	return 0;
}

int integrity_ecl_gate(const char *config, const char *path, const struct sif_image *img, struct arca_err *e)
{
	const char *list = config ? config : INTEGRITY_ECL_PATH;
	if (access(list, F_OK) < 0 && errno == ENOENT)
		return 0;
	struct integrity_ecl *ecl = NULL;
	int rc = integrity_ecl_load(list, &ecl, e);
	if (rc < 0)
		return rc;
	_cleanup_integrity_verifier_ struct integrity_verifier *v = NULL;
	if (ecl->activated && (rc = integrity_verifier_global(&v, e)) >= 0)
		rc = integrity_ecl_check(ecl, path, img, v, e);
	integrity_ecl_free(ecl);
	return rc;
}
