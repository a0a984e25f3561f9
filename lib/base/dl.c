// SPDX-License-Identifier: Apache-2.0
/* Optional libraries opened on first use; see base.h. */
#include <dlfcn.h>
#include <pthread.h>

#include "base.h"

/* One lock for all tables: loads are rare and short, and a per-table lock
 * would need its own initialisation story. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

static int dl_load_locked(struct dl_lib *lib, struct arca_err *e)
{
	/* RTLD_LOCAL: the library's symbols must not interpose on ours (we may
	 * carry our own copy of a library it also links). */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		return err_set(e, -ENOPKG, "cannot load %s (install it to use this command): %s", lib->soname,
			       why ? why : "unknown error");
	}
	for (size_t i = 0; i < lib->n; i++) {
		dlerror();
		void *f = dlsym(h, lib->syms[i].name);
		if (!f) {
			const char *why = dlerror();
			int r = err_set(e, -ENOPKG, "%s has no symbol %s (wrong version?)%s%s", lib->soname,
					lib->syms[i].name, why ? ": " : "", why ? why : "");
			/* No half-filled table: every pointer stays NULL until all resolve. */
			for (size_t j = 0; j < i; j++)
				*lib->syms[j].fn = NULL;
			dlclose(h);
			return r;
		}
		*lib->syms[i].fn = f;
	}
	lib->handle = h;
	return 0;
}

int dl_load(struct dl_lib *lib, struct arca_err *e)
{
	int r = 0;

	pthread_mutex_lock(&dl_lock);
	/* A failure is not remembered: the next call tries again and gets its
	 * own message (the library may have been installed meanwhile). */
	if (!lib->handle)
		r = dl_load_locked(lib, e);
	pthread_mutex_unlock(&dl_lock);
	return r;
}
