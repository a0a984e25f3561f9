/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Execution control list: the signer gate applied before an image runs.
 *
 * The configuration is the reference runtime's ecl.toml, read by a small
 * bounded reader of exactly the TOML subset that file uses (there is no
 * maintained C TOML parser in Debian):
 *
 *   activated = true            # booleans: true / false
 *   legacyinsecure = false
 *   [[execgroup]]               # one table per execution group
 *     tagname = "group1"        # strings: "basic" (with escapes) or 'literal'
 *     mode = "whitelist"        # whitelist | whitestrict | blacklist
 *     dirpath = "/srv/images"   # "" = any directory
 *     keyfp = ["7064B1D6...", "SHA256:..."]   # arrays may span lines
 *
 * Comments (#), blank lines and trailing commas are accepted; anything else
 * (unknown keys, other TOML types, duplicate keys) is refused.
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

struct tp {
	const char *p;
	size_t left;
	unsigned line;
	struct arca_err *e;
};

static int tp_err(struct tp *t, const char *what)
{
	return err_set(t->e, -EBADMSG, "ecl: line %u: %s", t->line, what);
}

static void skip_ws(struct tp *t)
{
	while (t->left && (*t->p == ' ' || *t->p == '\t')) {
		t->p++;
		t->left--;
	}
}

/* Skips whitespace, comments and newlines (inside arrays). */
static void skip_ws_nl(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		if (t->left && *t->p == '#') {
			while (t->left && *t->p != '\n') {
				t->p++;
				t->left--;
			}
		}
		if (t->left && (*t->p == '\n' || *t->p == '\r')) {
			if (*t->p == '\n')
				t->line++;
			t->p++;
			t->left--;
			continue;
		}
		return;
	}
}

/* End of a key/value line: whitespace, optional comment, newline or EOF. */
static int end_line(struct tp *t)
{
	skip_ws(t);
	if (t->left && *t->p == '#')
		while (t->left && *t->p != '\n') {
			t->p++;
			t->left--;
		}
	if (t->left && *t->p == '\r') {
		t->p++;
		t->left--;
	}
	if (!t->left)
		return 0;
	if (*t->p != '\n')
		return tp_err(t, "unexpected text after the value");
	t->p++;
	t->left--;
	t->line++;
	return 0;
}

static int parse_string(struct tp *t, char **out)
{
	if (!t->left || (*t->p != '"' && *t->p != '\''))
		return tp_err(t, "string expected");
	char q = *t->p;
	t->p++;
	t->left--;
	struct buf b = BUF_INIT;
	for (;;) {
		if (!t->left || *t->p == '\n') {
			buf_release(&b);
			return tp_err(t, "unterminated string");
		}
		char c = *t->p++;
		t->left--;
		if (c == q)
			break;
		if ((unsigned char)c < 0x20 && c != '\t') {
			buf_release(&b);
			return tp_err(t, "control character in a string");
		}
		if (c == '\\' && q == '"') {
			if (!t->left) {
				buf_release(&b);
				return tp_err(t, "unterminated escape");
			}
			char x = *t->p++;
			t->left--;
			switch (x) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			default: buf_release(&b); return tp_err(t, "unsupported escape in a string");
			}
		}
		if (b.len >= ECL_MAX_STRING) {
			buf_release(&b);
			return err_set(t->e, -E2BIG, "ecl: line %u: string longer than %d bytes", t->line, ECL_MAX_STRING);
		}
		buf_addch(&b, c);
	}
	if (memchr(b.p, '\0', b.len)) {
		buf_release(&b);
		return tp_err(t, "NUL in a string");
	}
	*out = buf_detach(&b, NULL);
	return *out ? 0 : err_set(t->e, -ENOMEM, "out of memory");
}

static int parse_bool(struct tp *t, bool *out)
{
	if (t->left >= 4 && !memcmp(t->p, "true", 4)) {
		*out = true;
		t->p += 4;
		t->left -= 4;
	} else if (t->left >= 5 && !memcmp(t->p, "false", 5)) {
		*out = false;
		t->p += 5;
		t->left -= 5;
	} else {
		return tp_err(t, "true or false expected");
	}
	return 0;
}

static int parse_array(struct tp *t, struct integrity_ecl_group *g)
{
	if (!t->left || *t->p != '[')
		return tp_err(t, "array expected");
	t->p++;
	t->left--;
	for (;;) {
		skip_ws_nl(t);
		if (t->left && *t->p == ']') {
			t->p++;
			t->left--;
			return 0;
		}
		if (g->nkeys >= ECL_MAX_KEYS)
			return err_set(t->e, -E2BIG, "ecl: line %u: more than %d keys in a group", t->line, ECL_MAX_KEYS);
		char *s;
		int rc = parse_string(t, &s);
		if (rc < 0)
			return rc;
		char **nk = realloc(g->keys, (g->nkeys + 1) * sizeof(*nk));
		if (!nk) {
			free(s);
			return err_set(t->e, -ENOMEM, "out of memory");
		}
		g->keys = nk;
		g->keys[g->nkeys++] = s;
		skip_ws_nl(t);
		if (t->left && *t->p == ',') {
			t->p++;
			t->left--;
			continue;
		}
		if (t->left && *t->p == ']')
			continue;
		return tp_err(t, "',' or ']' expected in an array");
	}
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int parse_mode(struct tp *t, const char *s, enum integrity_ecl_mode *m)
{
	if (!strcmp(s, "whitelist"))
		*m = INTEGRITY_ECL_WHITELIST;
	else if (!strcmp(s, "whitestrict"))
		*m = INTEGRITY_ECL_WHITESTRICT;
	else if (!strcmp(s, "blacklist"))
		*m = INTEGRITY_ECL_BLACKLIST;
	else
		return tp_err(t, "mode must be whitelist, whitestrict or blacklist");
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

int integrity_ecl_parse(const char *text, size_t len, struct integrity_ecl **out, struct arca_err *e)
{
	struct tp t = { text, len, 1, e };
	struct integrity_ecl *ecl = calloc(1, sizeof(*ecl));
	bool seen_act = false, seen_leg = false;
	unsigned seen = 0; /* per group: bit per key */
	int rc = 0;

	if (!ecl)
		return err_set(e, -ENOMEM, "out of memory");
	if (len > ECL_MAX_BYTES) {
		rc = err_set(e, -E2BIG, "ecl: file larger than %u bytes", ECL_MAX_BYTES);
		goto fail;
	}
	if (memchr(text, '\0', len)) {
		rc = err_set(e, -EBADMSG, "ecl: NUL byte in the file");
		goto fail;
	}
	for (;;) {
		skip_ws_nl(&t);
		if (!t.left)
			break;
		if (*t.p == '[') {
			if (t.left < 13 || memcmp(t.p, "[[execgroup]]", 13) != 0) {
				rc = tp_err(&t, "only [[execgroup]] tables are allowed");
				goto fail;
			}
			t.p += 13;
			t.left -= 13;
			if ((rc = end_line(&t)) < 0)
				goto fail;
			if (ecl->n >= ECL_MAX_GROUPS) {
				rc = err_set(e, -E2BIG, "ecl: more than %d execution groups", ECL_MAX_GROUPS);
				goto fail;
			}
			struct integrity_ecl_group *ng = realloc(ecl->groups, (ecl->n + 1) * sizeof(*ng));
			if (!ng) {
				rc = err_set(e, -ENOMEM, "out of memory");
				goto fail;
			}
			ecl->groups = ng;
			memset(&ng[ecl->n++], 0, sizeof(*ng));
			seen = 0;
			continue;
		}
		const char *k = t.p;
		while (t.left && is_key_char(*t.p)) {
			t.p++;
			t.left--;
		}
		size_t kl = (size_t)(t.p - k);
		skip_ws(&t);
		if (kl == 0 || !t.left || *t.p != '=') {
			rc = tp_err(&t, "key = value expected");
			goto fail;
		}
		t.p++;
		t.left--;
		skip_ws(&t);
#define KEY_IS(s) (kl == strlen(s) && !memcmp(k, s, kl))
		if (ecl->n == 0) {
			if (KEY_IS("activated") && !seen_act) {
				rc = parse_bool(&t, &ecl->activated);
				seen_act = true;
			} else if (KEY_IS("legacyinsecure") && !seen_leg) {
				rc = parse_bool(&t, &ecl->legacy);
				seen_leg = true;
			} else {
				rc = tp_err(&t, "unknown or repeated top-level key");
			}
		} else {
			struct integrity_ecl_group *g = &ecl->groups[ecl->n - 1];
			unsigned bit = KEY_IS("tagname") ? 1 : KEY_IS("mode") ? 2 : KEY_IS("dirpath") ? 4 : KEY_IS("keyfp") ? 8 : 0;
			if (!bit || (seen & bit)) {
				rc = tp_err(&t, "unknown or repeated key in [[execgroup]]");
			} else if (bit == 8) {
				rc = parse_array(&t, g);
			} else {
				char *s = NULL;
				rc = parse_string(&t, &s);
				if (rc == 0 && bit == 1)
					g->tag = s;
				else if (rc == 0 && bit == 4)
					g->dirpath = s;
				else if (rc == 0) {
					rc = parse_mode(&t, s, &g->mode);
					g->has_mode = rc == 0;
					free(s);
				}
			}
			seen |= bit;
		}
#undef KEY_IS
		if (rc < 0 || (rc = end_line(&t)) < 0)
			goto fail;
	}
	/* Reference validation: every group has a mode, valid keys, and no
	 * two groups share a directory. */
	for (size_t i = 0; i < ecl->n; i++) {
		struct integrity_ecl_group *g = &ecl->groups[i];
		if (!g->has_mode) {
			rc = err_set(e, -EBADMSG, "ecl: execution group %zu has no mode", i + 1);
			goto fail;
		}
		for (size_t k = 0; k < g->nkeys; k++)
			if (!valid_key(g->keys[k])) {
				rc = err_set(e, -EBADMSG, "ecl: execution group %zu: bad key fingerprint \"%s\"", i + 1, g->keys[k]);
				goto fail;
			}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(g->dirpath ? g->dirpath : "", ecl->groups[j].dirpath ? ecl->groups[j].dirpath : "") &&
			    g->dirpath && g->dirpath[0]) {
				rc = err_set(e, -EBADMSG, "ecl: two execution groups use the directory \"%s\"", g->dirpath);
				goto fail;
			}
	}
	*out = ecl;
	return 0;
fail:
	integrity_ecl_free(ecl);
	return rc;
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

int integrity_ecl_gate(const char *config, const char *image, struct arca_err *e)
{
	const char *path = config ? config : INTEGRITY_ECL_PATH;
	struct integrity_ecl *ecl = NULL;
	_cleanup_integrity_verifier_ struct integrity_verifier *v = NULL;
	_cleanup_sif_ struct sif_image *img = NULL;
	_cleanup_buf_ struct buf home = BUF_INIT;
	int rc;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if ((rc = integrity_ecl_load(path, &ecl, e)) < 0)
		return rc;
	if (!ecl->activated) {
		integrity_ecl_free(ecl);
		return 0;
	}
	if ((rc = integrity_verifier_new(&v)) < 0) {
		rc = err_set(e, rc, "out of memory");
		goto out;
	}
	if ((rc = integrity_keydir_gnupg(true, false, &home, e)) < 0)
		goto out;
	if (access(home.p, F_OK) == 0 && (rc = integrity_verifier_set_gnupghome(v, home.p, e)) < 0)
		goto out;
	if ((rc = add_global_pem_keys(v, e)) < 0)
		goto out;
	if ((rc = sif_open(image, &img, e)) < 0)
		goto out;
	rc = integrity_ecl_check(ecl, image, img, v, e);
out:
	integrity_ecl_free(ecl);
	return rc;
}
