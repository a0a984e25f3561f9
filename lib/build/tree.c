/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory tree a root filesystem is read into before its inodes and
 * directories are written. Children are found through one hash table keyed
 * by (parent, name) so that a hostile archive with millions of entries in
 * one directory costs linear, not quadratic, time.
 */
#include "internal.h"

#include <stdarg.h>

void tree_init(struct btree *t)
{
	memset(t, 0, sizeof(*t));
}

static void node_free(struct bnode *n)
{
	free(n->name);
	free(n->kids);
	free(n->target);
	for (size_t i = 0; i < n->nxattrs; i++) {
		free(n->xattrs[i].key);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	/* File inodes are allocated by libsquashfs's block processor. */
	sqfs_free(n->inode);
	free(n);
}

void tree_release(struct btree *t)
{
	struct bnode *n = t->all;
	while (n) {
		struct bnode *next = n->gnext;
		node_free(n);
		n = next;
	}
	free(t->ht);
	memset(t, 0, sizeof(*t));
}

void tree_warn(struct btree *t, const char *fmt, ...)
{
	if (!t->warn)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->warn(t->warn_ctx, msg);
}

static uint64_t hash_key(const struct bnode *parent, const char *name, size_t len)
{
	/* FNV-1a over the parent pointer and the name. */
	uint64_t h = 1469598103934665603ull;
	uintptr_t p = (uintptr_t)parent;
	for (size_t i = 0; i < sizeof(p); i++) {
		h ^= (uint8_t)(p >> (8 * i));
		h *= 1099511628211ull;
	}
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int ht_grow(struct btree *t)
{
	size_t ncap = t->htcap ? t->htcap * 2 : 1024;
	struct bnode **nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < t->htcap; i++) {
		struct bnode *n = t->ht[i];
		while (n) {
			struct bnode *next = n->hnext;
			size_t b = (size_t)(hash_key(n->parent, n->name, n->name_len) & (ncap - 1));
			n->hnext = nt[b];
			nt[b] = n;
			n = next;
		}
	}
	free(t->ht);
	t->ht = nt;
	t->htcap = ncap;
	return 0;
}

struct bnode *tree_child(const struct btree *t, const struct bnode *dir, const char *name, size_t len)
{
	if (!t->htcap)
		return NULL;
	size_t b = (size_t)(hash_key(dir, name, len) & (t->htcap - 1));
	for (struct bnode *n = t->ht[b]; n; n = n->hnext)
		if (n->parent == dir && n->name_len == len && memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

static struct bnode *node_alloc(struct btree *t, const char *name, size_t len)
{
	struct bnode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = malloc(len + 1);
	if (!n->name) {
		free(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->name_len = len;
	n->nlink = 1;
	n->gnext = t->all;
	t->all = n;
	return n;
}

int tree_make_root(struct btree *t, struct arca_err *e)
{
	struct bnode *r = node_alloc(t, "", 0);
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	r->mode = S_IFDIR | 0755;
	r->mtime = t->gen_time;
	r->origin = ORIGIN_GEN_DEFAULT;
	t->root = r;
	t->count = 1;
	return 0;
}

int tree_add_child(struct btree *t, struct bnode *dir, const char *name, size_t len, struct bnode **out,
		   struct arca_err *e)
{
	BUG_ON(!S_ISDIR(dir->mode));
	if (t->count >= BUILD_MAX_ENTRIES)
		return err_set(e, -E2BIG, "more than %u entries", BUILD_MAX_ENTRIES);
	if (len == 0 || len > BUILD_MAX_NAME)
		return err_set(e, -E2BIG, "name of %zu bytes (limit %u)", len, BUILD_MAX_NAME);
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return err_set(e, -EBADMSG, "invalid name '%.*s'", (int)len, name);
	if (t->htn + 1 > t->htcap / 2 && ht_grow(t) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	if (dir->nkids == dir->capkids) {
		size_t nc = dir->capkids ? dir->capkids * 2 : 8;
		struct bnode **nk = realloc(dir->kids, nc * sizeof(*nk));
		if (!nk)
			return err_set(e, -ENOMEM, "out of memory");
		dir->kids = nk;
		dir->capkids = nc;
	}
	struct bnode *n = node_alloc(t, name, len);
	if (!n)
		return err_set(e, -ENOMEM, "out of memory");
	n->parent = dir;
	dir->kids[dir->nkids++] = n;
	size_t b = (size_t)(hash_key(dir, name, len) & (t->htcap - 1));
	n->hnext = t->ht[b];
	t->ht[b] = n;
	t->htn++;
	t->count++;
	*out = n;
	return 0;
}

static void detach_one(struct btree *t, struct bnode *n)
{
	struct bnode *dir = n->parent;
	size_t b = (size_t)(hash_key(dir, n->name, n->name_len) & (t->htcap - 1));
	for (struct bnode **pp = &t->ht[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	for (size_t i = 0; i < dir->nkids; i++) {
		if (dir->kids[i] == n) {
			memmove(&dir->kids[i], &dir->kids[i + 1], (dir->nkids - i - 1) * sizeof(n));
			dir->nkids--;
			break;
		}
	}
	t->htn--;
	t->count--;
	n->detached = true;
	n->hnext = NULL;
}

void tree_detach(struct btree *t, struct bnode *n)
{
	/* A detached directory takes its subtree with it. Children are
	 * detached first so the hash never holds a node whose parent left. */
	while (n->nkids)
		tree_detach(t, n->kids[n->nkids - 1]);
	detach_one(t, n);
}

int tree_walk(struct btree *t, const char *path, bool create, struct bnode **parent, const char **leaf,
	      size_t *leaf_len, struct arca_err *e)
{
	size_t plen = strnlen(path, BUILD_MAX_PATH + 1);
	if (plen > BUILD_MAX_PATH)
		return err_set(e, -E2BIG, "path longer than %u bytes", BUILD_MAX_PATH);
	if (path[0] == '/')
		return err_set(e, -EPERM, "absolute path '%s' refused", path);
	struct bnode *dir = t->root;
	const char *p = path, *last = NULL;
	size_t last_len = 0;
	unsigned depth = 0;
	while (*p) {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		const char *next = s ? s + 1 : p + len;
		if (len == 0 || (len == 1 && p[0] == '.')) {
			p = next;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return err_set(e, -EPERM, "path '%s' has a '..' component", path);
		if (len > BUILD_MAX_NAME)
			return err_set(e, -E2BIG, "path '%s' has a component longer than %u bytes", path,
				       BUILD_MAX_NAME);
		if (last) {
			/* `last` is an intermediate component: it must be a directory. */
			if (++depth > BUILD_MAX_DEPTH)
				return err_set(e, -E2BIG, "path '%s' nests deeper than %u", path, BUILD_MAX_DEPTH);
			struct bnode *c = tree_child(t, dir, last, last_len);
			if (!c) {
				if (!create)
					return err_set(e, -ENOENT, "'%s': no such entry", path);
				int rc = tree_add_child(t, dir, last, last_len, &c, e);
				if (rc < 0)
					return rc;
				c->mode = S_IFDIR | 0755;
				c->mtime = t->has_epoch ? t->epoch : t->gen_time;
			} else if (!S_ISDIR(c->mode)) {
				/* Extraction would follow a symlink here, possibly out of the
				 * root; in an image the path simply cannot exist. */
				return err_set(e, -EPERM, "path '%s' goes through non-directory '%.*s'", path,
					       (int)last_len, last);
			}
			dir = c;
		}
		last = p;
		last_len = len;
		p = next;
	}
	*parent = dir;
	*leaf = last;
	*leaf_len = last_len;
	return 0;
}

int bnode_add_xattr(struct bnode *n, const char *key, const void *val, size_t len)
{
	if (n->nxattrs >= BUILD_MAX_XATTRS || len > BUILD_MAX_XATTR_VALUE)
		return -E2BIG;
	for (size_t i = 0; i < n->nxattrs; i++)
		if (!strcmp(n->xattrs[i].key, key))
			return -EEXIST;
	struct bxattr *nx = realloc(n->xattrs, (n->nxattrs + 1) * sizeof(*nx));
	if (!nx)
		return -ENOMEM;
	n->xattrs = nx;
	char *k = strdup(key);
	uint8_t *v = malloc(len ? len : 1);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	if (len)
		memcpy(v, val, len);
	nx[n->nxattrs++] = (struct bxattr){ k, v, len };
	return 0;
}

bool xattr_name_ok(const char *key)
{
	return !strncmp(key, "user.", 5) || !strncmp(key, "trusted.", 8) || !strncmp(key, "security.", 9);
}

void tree_apply_policy(const struct btree *t, struct bnode *n, uint32_t uid, uint32_t gid, int64_t mtime)
{
	if (t->privileged) {
		n->uid = uid;
		n->gid = gid;
	} else {
		n->uid = n->gid = 0;
	}
	if (t->has_epoch)
		n->mtime = t->epoch;
	else if (mtime < 0)
		n->mtime = 0;
	else if (mtime > (int64_t)UINT32_MAX)
		n->mtime = UINT32_MAX;
	else
		n->mtime = (uint32_t)mtime;
}

int tree_resolve_collision(struct btree *t, struct bnode *existing, uint32_t new_mode, const char *path,
			   struct arca_err *e)
{
	if (existing->origin == ORIGIN_GEN_FORCE)
		return S_ISDIR(existing->mode) && S_ISDIR(new_mode) ? 0 : 1;
	if (S_ISDIR(existing->mode) && S_ISDIR(new_mode))
		return 0; /* the later entry's metadata wins, as on extraction */
	if (S_ISDIR(existing->mode) && existing->origin == ORIGIN_SOURCE)
		return err_set(e, -EBADMSG, "'%s' replaces a directory", path);
	if (existing->origin == ORIGIN_SOURCE && (existing->nlink > 1 || existing->link))
		return err_set(e, -EBADMSG, "'%s' replaces a hard-linked entry", path);
	tree_detach(t, existing);
	return 0;
}
